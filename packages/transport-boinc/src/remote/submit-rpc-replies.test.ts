import { describe, expect, it } from 'vitest';
import { readFixture, readFixtureBytes } from '../../test/read-fixture.js';
import {
  modTimeMarginSeconds,
  readAbortJobsReply,
  readBatchIdReply,
  readGetTemplatesReply,
  readPingReply,
  readQueryBatchChangesReply,
  readQueryBatchReply,
  readQueryCompletedJobReply,
  readQueryFilesReply,
  readQueryJobReply,
  readRetireBatchReply,
  readUploadFilesReply,
} from './submit-rpc-replies.js';
import { workunitErrorNames } from './workunit-error-mask.js';

describe('recorded replies', () => {
  it('ping', () => {
    expect(() => readPingReply(readFixtureBytes('ping_response.xml'))).not.toThrow();
  });

  it('submit_batch', () => {
    expect(readBatchIdReply(readFixtureBytes('submit_batch_response.xml'), 'submit_batch')).toBe(3);
  });

  it('query_batch, with the PHP warnings inside', () => {
    expect(readQueryBatchReply(readFixtureBytes('query_batch_response.xml'))).toEqual({
      id: 3,
      name: 'demo_batch_2',
      appName: 'nodeapp',
      state: 'complete',
      stateCode: 2,
      createTime: 1795550886,
      expireTime: 0,
      estimatedCompletionTime: 0,
      completionTime: 1795550919,
      jobCount: 1,
      errorJobCount: 0,
      fractionDone: 1,
      creditEstimate: 0,
      creditCanonical: 0,
      jobs: [{ id: 10, name: 'demo_rpc_job_2', canonicalInstanceId: 9, status: 'done', cpuTime: 0 }],
    });
  });
});

describe('replies in the formats of submit_rpc_handler.php and job_file.php', () => {
  it('query_batch with job details: errors, exit statuses, no canonical instance yet', () => {
    const batch = readQueryBatchReply(readFixture('constructed/query_batch_details_response.xml'));
    expect(batch.totalCpuTime).toBe(3.5);
    expect(batch.errorJobCount).toBe(1);
    expect(batch.jobs).toEqual([
      { id: 12, name: 'failing_job', canonicalInstanceId: undefined, status: 'error', errors: ['too_many_error_results'], exitStatuses: [1, -148] },
      { id: 13, name: 'waiting_job', canonicalInstanceId: undefined, status: 'queued' },
    ]);
  });

  it('query_batch2: jobs split back per batch by <batch_size>, and the next min_mod_time', () => {
    const changes = readQueryBatchChangesReply(readFixture('constructed/query_batch2_response.xml'), ['demo_batch_2', 'other']);
    expect(changes.serverTime).toBe(1795550950.4821);
    expect(changes.nextMinModTime).toBe(1795550950 - modTimeMarginSeconds);
    expect(changes.batches).toEqual([
      { batchName: 'demo_batch_2', jobs: [{ name: 'demo_rpc_job_2', status: 'done' }, { name: 'demo_rpc_job_3', status: 'in-progress' }] },
      { batchName: 'other', jobs: [{ name: 'other_job_1', status: 'error' }] },
    ]);
  });

  it('query_batch2 whose counts do not add up is refused', () => {
    expect(() => readQueryBatchChangesReply(readFixture('constructed/query_batch2_response.xml'), ['only_one'])).toThrow(expect.objectContaining({ code: 'TSMW_BOINC_XML', reason: 'unexpected' }));
  });

  it('query_completed_job: stderr unwrapped from its CDATA framing and unescaped', () => {
    expect(readQueryCompletedJobReply(readFixture('constructed/query_completed_job_response.xml'))).toEqual({
      errorMask: 0,
      errors: [],
      canonicalResultId: 9,
      exitStatus: 0,
      elapsedTime: 1.52,
      cpuTime: 1.21,
      stderrOut: '<stderr_txt>\ntsmw-runtime: task "add" done & 1 < 2\n</stderr_txt>\n',
    });
  });

  it("query_completed_job of a failed job (BOINC's undefined $job_id: a warning, no instance)", () => {
    expect(readQueryCompletedJobReply(readFixture('constructed/query_completed_job_failed_response.xml'))).toEqual({ errorMask: 2, errors: ['too_many_error_results'] });
  });

  it('query_job: instances and output sizes', () => {
    expect(readQueryJobReply(readFixture('constructed/query_job_response.xml'))).toEqual([
      { id: 9, name: 'demo_rpc_job_2_0', state: 'Completed and validated', outputSizes: [123] },
      { id: 11, name: 'demo_rpc_job_2_1', state: 'In progress', outputSizes: [] },
    ]);
  });

  it('abort_jobs: the names in the malformed <aborted NAME> elements', () => {
    expect(readAbortJobsReply(readFixture('constructed/abort_jobs_response.xml'))).toEqual(['job_a', 'job.b-2']);
  });

  it('query_files: absent indices mapped back to names', () => {
    expect(readQueryFilesReply(readFixture('constructed/query_files_response.xml'), ['jf_a', 'jf_b', 'jf_c'])).toEqual(['jf_a', 'jf_c']);
    expect(() => readQueryFilesReply(readFixture('constructed/query_files_response.xml'), ['jf_a'])).toThrow(expect.objectContaining({ reason: 'unexpected' }));
    expect(readQueryFilesReply('<query_files>\n<absent_files>\n</absent_files>\n</query_files>', ['jf_a'])).toEqual([]);
  });

  it('upload_files, create_batch, retire_batch', () => {
    expect(() => readUploadFilesReply(readFixture('constructed/upload_files_response.xml'))).not.toThrow();
    expect(readBatchIdReply(readFixture('constructed/create_batch_response.xml'), 'create_batch')).toBe(7);
    expect(() => readRetireBatchReply(readFixture('constructed/retire_batch_response.xml'))).not.toThrow();
  });

  it('get_templates: both templates as written, and their file counts', () => {
    const templates = readGetTemplatesReply(readFixture('constructed/get_templates_response.xml'));
    expect(templates.inputFileCount).toBe(1);
    expect(templates.outputFileCount).toBe(1);
    expect(templates.inputTemplate).toMatch(/^<input_template>[^]*<open_name>in<\/open_name>[^]*<\/input_template>$/);
    expect(templates.outputTemplate).toMatch(/^<output_template>[^]*<OUTFILE_0\/>[^]*<\/output_template>$/);
  });

  it('an error reply to any of them is a BoincRpcError', () => {
    expect(() => readBatchIdReply(readFixture('constructed/error_bad_authenticator.xml'), 'submit_batch')).toThrow(
      expect.objectContaining({ code: 'TSMW_BOINC_RPC', errorNumber: -1, boincMessage: 'bad authenticator' }),
    );
  });

  it('a reply without its data is a BoincXmlError naming the field', () => {
    expect(() => readBatchIdReply('<submit_batch>\n</submit_batch>', 'submit_batch')).toThrow(/submit_batch reply, <batch_id> is missing/);
    expect(() => readPingReply('<ping>\n</ping>')).toThrow(/neither <success> nor <error>/);
    expect(() => readQueryBatchReply('<query_batch><id>x</id><state>1</state><njobs>1</njobs><fraction_done>0</fraction_done></query_batch>')).toThrow(/<id> should be an integer, not "x"/);
  });
});

describe('workunitErrorNames', () => {
  it('names each bit, unknown ones by value', () => {
    expect(workunitErrorNames(0)).toEqual([]);
    expect(workunitErrorNames(2 | 16)).toEqual(['too_many_error_results', 'cancelled']);
    expect(workunitErrorNames(1 | 4 | 8 | 32 | 128)).toEqual(['couldnt_send_result', 'too_many_success_results', 'too_many_total_results', 'no_canonical_result', 'bit_128']);
  });
});
