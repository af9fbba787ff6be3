import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { readFixture } from '../../test/read-fixture.js';
import { formatJobInputTemplate, formatJobOutputTemplate } from './job-templates.js';
import {
  formatAbortJobsRequest,
  formatBatchOperationRequest,
  formatCreateBatchRequest,
  formatGetTemplatesRequest,
  formatJobFileRequest,
  formatPingRequest,
  formatQueryBatchChangesRequest,
  formatQueryBatchRequest,
  formatQueryCompletedJobRequest,
  formatQueryJobRequest,
  formatSubmitBatchRequest,
} from './submit-rpc-requests.js';

const authenticator = '00000000000000000000000000000000';
// Read as BOINC's PHP reads a request: element by element, values untrimmed, nothing guessed.
const parser = new XMLParser({ parseTagValue: false, trimValues: true, isArray: () => true, ignoreAttributes: true, htmlEntities: true });

/** The element tree with numbers compared as numbers (`1e9` and `1000000000` are the same to PHP's `(double)`). */
function structure(xml: string): unknown {
  const normalize = (value: unknown): unknown => {
    if (typeof value === 'string') return /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i.test(value) ? Number(value) : value;
    if (Array.isArray(value)) return value.map(normalize);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, normalize(inner)]));
    return value;
  };
  return normalize(parser.parse(xml));
}

describe('requests match the recorded exchanges', () => {
  it('ping_request.xml', () => {
    expect(structure(formatPingRequest(authenticator))).toEqual(structure(readFixture('ping_request.xml')));
  });

  it('query_batch_request.xml', () => {
    expect(structure(formatQueryBatchRequest(authenticator, { batchId: 3 }, { jobDetails: true }))).toEqual(structure(readFixture('query_batch_request.xml')));
  });

  it('submit_batch_request.xml', () => {
    const built = formatSubmitBatchRequest(authenticator, {
      appName: 'nodeapp',
      batch: { batchName: 'demo_batch_2' },
      jobs: [{ name: 'demo_rpc_job_2', rscFpopsEst: 1e9, commandLine: '--gamma 3', inputFiles: [{ mode: 'inline', source: '{"numbers":[10,20,30]}' }] }],
    });
    expect(structure(built)).toEqual(structure(readFixture('submit_batch_request.xml')));
  });
});

describe('requests of the other operations, as the handlers read them', () => {
  const otherAuthenticator = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  it.each([
    ['create_batch', () => formatCreateBatchRequest(otherAuthenticator, { appName: 'app', batchName: 'b.1', expireTime: 0 }), { app_name: ['app'], batch_name: ['b.1'], expire_time: [0] }],
    ['query_batch2', () => formatQueryBatchChangesRequest(otherAuthenticator, ['a', 'b'], 1795550950), { batch_name: ['a', 'b'], min_mod_time: [1795550950] }],
    ['query_job', () => formatQueryJobRequest(otherAuthenticator, 12), { job_id: [12] }],
    ['query_completed_job', () => formatQueryCompletedJobRequest(otherAuthenticator, 'job_1'), { job_name: ['job_1'] }],
    ['abort_jobs', () => formatAbortJobsRequest(otherAuthenticator, ['job_1', 'job_2']), { job_name: ['job_1', 'job_2'] }],
    ['abort_batch', () => formatBatchOperationRequest('abort_batch', otherAuthenticator, { batchName: 'b' }), { batch_name: ['b'] }],
    ['retire_batch', () => formatBatchOperationRequest('retire_batch', otherAuthenticator, { batchId: 4 }), { batch_id: [4] }],
    ['get_templates', () => formatGetTemplatesRequest(otherAuthenticator, { jobName: 'job_1' }), { job_name: ['job_1'] }],
    ['query_files', () => formatJobFileRequest('query_files', otherAuthenticator, ['jf_a', 'jf_b'], { batchId: 7 }), { batch_id: [7], delete_time: [0], phys_name: ['jf_a', 'jf_b'] }],
    ['upload_files', () => formatJobFileRequest('upload_files', otherAuthenticator, ['jf_a'], { deleteTime: 5 }), { batch_id: [0], delete_time: [5], phys_name: ['jf_a'] }],
  ])('%s', (operation, build, expected) => {
    const tree = structure(build()) as Record<string, [Record<string, unknown>]>;
    expect(Object.keys(tree)).toEqual([operation]);
    expect(tree[operation]?.[0]).toEqual({ authenticator: [otherAuthenticator], ...expected });
  });

  it('submit_batch carries batch options, job parameters, per-job templates and every input mode', () => {
    const inputTemplate = formatJobInputTemplate({ files: [{ openName: 'in', copyFile: true }, { openName: 'data' }, { openName: 'remote' }], workunit: { minQuorum: 2, targetNresults: 2, rscFpopsEst: 5e12 } });
    const outputTemplate = formatJobOutputTemplate({ files: [{ openName: 'out', maxNbytes: 1e6 }] });
    const xml = formatSubmitBatchRequest(authenticator, {
      appName: 'app',
      batch: { batchId: 9 },
      priority: 5,
      appVersionNum: 102,
      inputTemplateFile: 'tsmw_in',
      jobParameters: { rscFpopsEst: 1e12, rscFpopsBound: 1e14, rscMemoryBound: 5e8, rscDiskBound: 1e9, delayBound: 86400 },
      jobs: [
        {
          name: 'j1',
          priority: 7,
          inputTemplate,
          outputTemplate,
          inputFiles: [
            { mode: 'inline', source: ' a & b <c>\r\n' },
            { mode: 'local_staged', source: 'jf_0123456789abcdef0123456789abcdef' },
            { mode: 'remote', url: 'https://data.example.org/x.bin', nbytes: 123, md5: '0123456789abcdef0123456789abcdef' },
          ],
        },
      ],
    });
    const batch = (parser.parse(xml) as { submit_batch: [{ batch: [Record<string, unknown[]>] }] }).submit_batch[0].batch[0];
    expect(batch['batch_id']).toEqual(['9']);
    expect(batch['priority']).toEqual(['5']);
    expect(batch['app_version_num']).toEqual(['102']);
    expect(batch['input_template_filename']).toEqual(['tsmw_in']);
    expect(batch['job_params']).toEqual([{ rsc_fpops_est: ['1000000000000'], rsc_fpops_bound: ['100000000000000'], rsc_memory_bound: ['500000000'], rsc_disk_bound: ['1000000000'], delay_bound: ['86400'] }]);
    const [job] = batch['job'] as [Record<string, unknown[]>];
    expect(job['priority']).toEqual(['7']);
    expect(job['input_template']).toEqual([
      {
        file_info: [{ number: ['0'] }, { number: ['1'] }, { number: ['2'] }],
        workunit: [
          {
            file_ref: [
              { file_number: ['0'], open_name: ['in'], copy_file: [''] },
              { file_number: ['1'], open_name: ['data'] },
              { file_number: ['2'], open_name: ['remote'] },
            ],
            rsc_fpops_est: ['5000000000000'],
            min_quorum: ['2'],
            target_nresults: ['2'],
          },
        ],
      },
    ]);
    expect(job['output_template']).toBeDefined();
    expect(xml).toContain('<name><OUTFILE_0/></name>');
    expect(xml).toContain('<url><UPLOAD_URL/></url>');
    const untrimmed = new XMLParser({ parseTagValue: false, trimValues: false, isArray: () => true, htmlEntities: true });
    const files = (untrimmed.parse(xml) as { submit_batch: [{ batch: [{ job: [{ input_file: Record<string, string[]>[] }] }] }] }).submit_batch[0].batch[0].job[0].input_file;
    expect(files.map((file) => file['mode']?.[0])).toEqual(['inline', 'local_staged', 'remote']);
    expect(files[0]?.['source']).toEqual([' a & b <c>\r\n']);
    expect(files[2]).toMatchObject({ url: ['https://data.example.org/x.bin'], nbytes: ['123'], md5: ['0123456789abcdef0123456789abcdef'] });
  });
});

describe('requests refuse values BOINC cannot carry, naming them', () => {
  const job = { name: 'ok', inputFiles: [] };
  it.each([
    ['a job name with a space', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [{ ...job, name: 'a b' }] }), /job name "a b"/],
    ['a duplicate job name', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [job, job] }), /appears twice/],
    ['a command line with a double quote', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [{ ...job, commandLine: 'say "hi"' }] }), /command line/],
    ['a command line with a line break', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [{ ...job, commandLine: 'a\nb' }] }), /command line/],
    ['a remote URL with &', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [{ ...job, inputFiles: [{ mode: 'remote', url: 'https://x/?a=1&b=2', nbytes: 1, md5: '0123456789abcdef0123456789abcdef' }] }] }), /url/],
    ['a physical name leaving the directory', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [{ ...job, inputFiles: [{ mode: 'local_staged', source: '../x' }] }] }), /physical name/],
    ['an inline NUL', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [{ ...job, inputFiles: [{ mode: 'inline', source: 'a\u0000' }] }] }), /inline content/],
    ['a bad app name', () => formatSubmitBatchRequest(authenticator, { appName: '../app', jobs: [job] }), /app "..\/app"/],
    ['an input template that is not one', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [{ ...job, inputTemplate: '</job><job>' }] }), /input template/],
    ['a fractional delay bound', () => formatSubmitBatchRequest(authenticator, { appName: 'app', jobs: [job], jobParameters: { delayBound: 1.5 } }), /delayBound/],
    ['a batch named twice', () => formatQueryBatchRequest(authenticator, { batchId: 1, batchName: 'b' } as never), /not both/],
    ['a negative min_mod_time', () => formatQueryBatchChangesRequest(authenticator, ['b'], -1), /minModTime/],
    ['a quorum above the target', () => formatJobInputTemplate({ files: [], workunit: { minQuorum: 3, targetNresults: 2 } }), /targetNresults/],
  ])('%s', (_what, build, message) => {
    expect(build).toThrow(expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT', message: expect.stringMatching(message) }));
  });
});
