import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeBoincProject, type FakeBoincProject } from '@tsmw/boinc-test-server';
import { createSubmitRpcClient, type SubmitRpcClient, type SubmitRpcLogEntry } from '@tsmw/transport-boinc';

// The client against the BOINC test double's remote face (submit_rpc_handler.php, job_file.php,
// get_output2.php, get_output3.php over a fake project whose daemons run the jobs).

const md5 = (data: Uint8Array | string) => createHash('md5').update(data).digest('hex');
const encoder = new TextEncoder();

let directory: string;
let project: FakeBoincProject;
let client: SubmitRpcClient;
const log: SubmitRpcLogEntry[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-remote-client-'));
  project = await createFakeBoincProject({
    directory: join(directory, 'project'),
    apps: [{ name: 'nodeapp' }],
    // Outputs stay in upload/ (get_output2 reads them there): a validator and an assimilator that only records.
    daemons: ['sample_trivial_validator -d 3 --app nodeapp', 'script_assimilator -d 3 --app nodeapp --script keep_outputs'],
    daemonIntervalMs: 50,
    assimilatorRestartDelayMs: 50,
  });
  writeFileSync(join(project.directory, 'bin', 'keep_outputs'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  client = createSubmitRpcClient({ url: project.url, authenticator: project.authenticator, backoff: { initialMs: 1, maxMs: 10 }, log: (entry) => log.push(entry) });
});

afterAll(async () => {
  await project?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('the submission client against the test double', () => {
  const batchName = 'remote_batch_1';
  const shared = new Uint8Array(40_000).map((_, index) => (index * 7) % 256);
  const binary = new Uint8Array([0, 159, 146, 150, 255]);
  const outputs = { job_text: '{"pi":3.14}', job_binary: 'binary done', job_shared_a: 'a done', job_shared_b: 'b done' } as const;

  it('pings, submits a batch (inline, uploaded once, shared), and the jobs run', async () => {
    await client.ping();
    for (const [name, output] of Object.entries(outputs)) project.injectResultFault(name, { outcome: 'success', outputs: [output] });
    const submitted = await client.submitBatch({
      appName: 'nodeapp',
      batchName,
      jobParameters: { rscFpopsEst: 1e9, delayBound: 3600 },
      jobs: [
        { name: 'job_text', commandLine: '--gamma 3', inputFiles: [{ kind: 'bytes', data: encoder.encode('{"numbers":[10,20,30]}\n') }] },
        { name: 'job_binary', inputFiles: [{ kind: 'bytes', data: binary }] },
        { name: 'job_shared_a', inputFiles: [{ kind: 'bytes', data: shared }] },
        { name: 'job_shared_b', inputFiles: [{ kind: 'bytes', data: shared }] },
        { name: 'job_waiting', inputFiles: [{ kind: 'bytes', data: encoder.encode('never runs') }] },
      ],
    });
    expect(submitted.inlineFiles).toBe(2);
    expect([...submitted.uploadedFiles].sort()).toEqual([`jf_${md5(binary)}`, `jf_${md5(shared)}`].sort());
    const counters = project.counters();
    // Nothing uploaded twice, no workunit created twice.
    expect(counters.filesUploaded.get(`jf_${md5(shared)}`)).toBe(1);
    expect([...counters.workunitsByName.values()].every((count) => count === 1)).toBe(true);
    expect(project.workunit('job_text')?.record.commandLine).toBe('--gamma 3');
    await project.settle();
    await project.waitFor(() => (Object.keys(outputs).every((name) => (project.workunit(name)?.canonicalResultId ?? 0) > 0) ? true : undefined), { what: 'the four jobs done' });
  });

  it('queries the batch with details, and the changes since a time', async () => {
    const batch = await client.queryBatch({ batchName }, { jobDetails: true });
    expect(batch).toMatchObject({ name: batchName, appName: 'nodeapp', jobCount: 5 });
    const byName = new Map(batch.jobs.map((job) => [job.name, job]));
    for (const name of Object.keys(outputs)) expect(byName.get(name)).toMatchObject({ status: 'done', canonicalInstanceId: project.workunit(name)?.canonicalResultId });
    expect(byName.get('job_waiting')?.status).toMatch(/^(queued|in-progress)$/);

    const all = await client.queryBatchChanges({ batchNames: [batchName] });
    expect(all.batches[0]?.jobs.map((job) => job.name).sort()).toEqual([...Object.keys(outputs), 'job_waiting'].sort());
    expect(all.batches[0]?.jobs.find((job) => job.name === 'job_text')?.status).toBe('done');
    // Asking from well after every change: nothing.
    const later = await client.queryBatchChanges({ batchNames: [batchName], minModTime: all.serverTime + 3600 });
    expect(later.batches).toEqual([{ batchName, jobs: [] }]);
    expect(all.nextMinModTime).toBeLessThan(all.serverTime);
  });

  it('downloads outputs through get_output2 (the double send read once) and get_output3', async () => {
    const workunit = project.workunit('job_text');
    const resultId = workunit?.canonicalResultId ?? 0;
    // The double has no query_job (where a real server reports output sizes): the size is the one uploaded.
    const bytes = await client.downloadOutput({ resultId, expectedBytes: outputs.job_text.length });
    expect(new TextDecoder().decode(bytes)).toBe(outputs.job_text);

    // As batch_collect_assimilator would have left it: results/<batch>/<wu>__file_<open name>.
    const batchId = workunit?.batch ?? 0;
    const openName = workunit?.results.find((result) => result.id === resultId)?.outputs[0]?.openName ?? 'out';
    mkdirSync(join(project.directory, 'results', String(batchId)), { recursive: true });
    writeFileSync(join(project.directory, 'results', String(batchId), `job_text__file_${openName}`), outputs.job_text);
    expect(new TextDecoder().decode(await client.downloadOutput({ resultId, source: 'batch-collect' }))).toBe(outputs.job_text);
  });

  it('reads how a job completed, aborts a job, retires the batch', async () => {
    const completed = await client.queryCompletedJob('job_binary');
    expect(completed).toMatchObject({ errorMask: 0, errors: [], canonicalResultId: project.workunit('job_binary')?.canonicalResultId });
    expect(await client.abortJobs(['job_waiting'])).toEqual(['job_waiting']);
    expect((project.workunit('job_waiting')?.errorMask ?? 0) & 16).toBe(16);
    const templates = await client.getTemplates({ appName: 'nodeapp' });
    expect([templates.inputFileCount, templates.outputFileCount]).toEqual([1, 1]);
    await client.retireBatch({ batchName });
    expect((await client.queryBatch({ batchName })).state).toBe('retired');
  });

  it('lives through the injected faults: PHP warnings, a 500, a cut-off reply, an HTML page, a stall', async () => {
    project.injectRemoteFault({ kind: 'php-warning-before-xml' }, { op: 'ping' });
    await client.ping();
    project.injectRemoteFault({ kind: 'php-warning-after-start-tag' }, { op: 'query_batch' });
    expect((await client.queryBatch({ batchName })).name).toBe(batchName);
    project.injectRemoteFault({ kind: 'http-500' }, { op: 'query_batch' });
    project.injectRemoteFault({ kind: 'truncated' }, { op: 'query_batch' });
    project.injectRemoteFault({ kind: 'html-error-page' }, { op: 'query_batch' });
    const before = log.length;
    expect((await client.queryBatch({ batchName })).name).toBe(batchName);
    expect(log.slice(before).map((entry) => `${entry.operation} ${entry.outcome}`)).toEqual(['query_batch retry', 'query_batch retry', 'query_batch retry', 'query_batch ok']);
    const impatient = createSubmitRpcClient({ url: project.url, authenticator: project.authenticator, timeoutMs: 500, backoff: { initialMs: 1, maxMs: 10 } });
    project.injectRemoteFault({ kind: 'stall' }, { op: 'ping' });
    await impatient.ping();
    project.injectRemoteFault({ kind: 'error-reply', errorNum: -1, message: 'no such batch' }, { op: 'query_batch' });
    await expect(client.queryBatch({ batchName })).rejects.toThrow(expect.objectContaining({ code: 'TSMW_BOINC_RPC', errorNumber: -1, boincMessage: 'no such batch' }));
  });

  it("a wrong authenticator is BOINC's 'bad authenticator', and no authenticator shows anywhere", async () => {
    const wrong = createSubmitRpcClient({ url: project.url, authenticator: '0123456789abcdef0123456789abcdef' });
    const error = await wrong.queryBatch({ batchName }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'TSMW_BOINC_RPC', boincMessage: 'bad authenticator' });
    const refused = await wrong.downloadOutput({ resultId: project.workunit('job_text')?.canonicalResultId ?? 0 }).catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ code: 'TSMW_BOINC_OUTPUT', message: expect.stringContaining('bad auth') });
    const shown = `${inspect([error, refused], { depth: 20, showHidden: true })}${JSON.stringify(log)}`;
    expect(shown).not.toContain('0123456789abcdef0123456789abcdef');
    expect(shown).not.toContain(project.authenticator);
    expect(log.some((entry) => entry.outcome === 'retry')).toBe(true);
  });
});
