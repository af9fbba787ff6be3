import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMaster, TaskFailedError, type Master } from '@tsmw/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BoincJobFailedError, createBoincTransport, workunitErrorBits, type BoincRemoteOptions } from '@tsmw/transport-boinc';
import { createTestProject, startFakeVolunteers, type TestProject } from '../../test/support/test-project.js';
import * as tasks from '../../test/fixtures/boinc-tasks.mjs';

// The remote way in: the fake project's remote face (submit_rpc_handler.php, job_file.php,
// get_output2.php) over its real daemons; the master keeps its batch in a state directory of
// its own. On the server tsmw's assimilator leaves a remote batch's outputs where get_output2
// serves them.
const tasksUrl = new URL('../../test/fixtures/boinc-tasks.mjs', import.meta.url);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(volunteerOptions: Parameters<typeof startFakeVolunteers>[1] = {}) {
  const testProject = await createTestProject({ tasks: tasksUrl });
  cleanups.push(() => testProject.close());
  const volunteers = await startFakeVolunteers(testProject, volunteerOptions);
  cleanups.push(() => volunteers.stop());
  const stateDirectory = await mkdtemp(join(tmpdir(), 'tsmw-remote-state-'));
  cleanups.push(() => rm(stateDirectory, { recursive: true, force: true }));
  return { testProject, stateDirectory };
}

async function master(testProject: TestProject, stateDirectory: string, batch: string, options: Partial<BoincRemoteOptions> = {}): Promise<Master> {
  const created = await createMaster({
    transport: createBoincTransport({
      app: testProject.app,
      url: testProject.project.url,
      authenticator: testProject.project.authenticator,
      stateDirectory,
      pollIntervalMs: 200,
      maxPollIntervalMs: 1000,
      scanIntervalMs: 500,
      ...options,
    }),
    tasks: tasksUrl,
    batch,
  });
  cleanups.push(() => created.close({ force: true }));
  return created;
}

describe('the BOINC transport, remotely', () => {
  it('submits a chunk as one submit_batch with uploaded envelopes, polls changes, downloads the outputs', async () => {
    const { testProject, stateDirectory } = await setUp();
    const remote = await master(testProject, stateDirectory, 'far');
    expect(await remote.map(tasks.square, [1, 2, 3, 4, 5])).toEqual([1, 4, 9, 16, 25]);
    const error = await (await remote.submit(tasks.fail, 'far away')).result.catch((caught: unknown) => caught);
    expect(TaskFailedError.isInstance(error)).toBe(true);
    const counters = testProject.project.counters();
    expect([...counters.workunitsByName.keys()].sort()).toEqual([...[0, 1, 2, 3, 4].map((index) => `tsmw_far_kmap-0-${index}_a1`), 'tsmw_far_ksubmit-1_a1'].sort());
    expect([...counters.workunitsByName.values()].every((times) => times === 1)).toBe(true);
    expect(counters.requests.get('submit_rpc_handler:submit_batch')).toBe(2);
    expect(counters.requests.get('submit_rpc_handler:query_batch2')).toBeGreaterThan(0);
    // Every result in: the BOINC batches are retired.
    await testProject.project.waitFor(() => ([...testProject.project.batches.values()].filter((batch) => batch.name.startsWith('tsmw_far_')).every((batch) => batch.state === 4) ? true : undefined), {
      what: 'the batches to be retired',
      timeoutMs: 60_000,
    });
  });

  it('says why BOINC gave up on a job', async () => {
    const { testProject, stateDirectory } = await setUp({ outcome: () => 'client-error' });
    const remote = await master(testProject, stateDirectory, 'failing');
    const error = await (await remote.submit(tasks.square, 2)).result.catch((caught: unknown) => caught);
    expect(BoincJobFailedError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/BOINC job tsmw_failing_ksubmit-1_a1 failed \(error mask \d+\): .*(too many errors|no valid result)/);
  });

  it('goes on through 500s, HTML error pages and cut-off replies while it polls', async () => {
    const { testProject, stateDirectory } = await setUp();
    const warnings: string[] = [];
    testProject.project.injectRemoteFault({ kind: 'http-500' }, { op: 'query_batch2', times: 2 });
    testProject.project.injectRemoteFault({ kind: 'html-error-page' }, { op: 'query_batch2', times: 1 });
    testProject.project.injectRemoteFault({ kind: 'truncated' }, { op: 'query_batch2', times: 1 });
    const remote = await master(testProject, stateDirectory, 'faulty', { onWarning: (message) => warnings.push(message), retries: 0 });
    expect(await remote.map(tasks.square, [6, 7])).toEqual([36, 49]);
    expect(warnings.some((warning) => warning.startsWith('Polling BOINC for the results of batch faulty failed'))).toBe(true);
  });

  it('aborts a cancelled task\'s job with abort_jobs', async () => {
    const { testProject, stateDirectory } = await setUp({ only: () => false });
    const remote = await master(testProject, stateDirectory, 'aborted');
    const handle = await remote.submit(tasks.square, 2);
    await testProject.project.waitFor(() => testProject.project.workunit('tsmw_aborted_ksubmit-1_a1'), { what: 'the workunit', timeoutMs: 60_000 });
    handle.cancel();
    await testProject.project.waitFor(
      () => ((testProject.project.workunit('tsmw_aborted_ksubmit-1_a1')!.errorMask & workunitErrorBits.cancelled) !== 0 ? true : undefined),
      { what: 'the job to be aborted', timeoutMs: 60_000 },
    );
  });

  it('keeps the batch in its state directory: a master started again gets what came meanwhile', async () => {
    const { testProject, stateDirectory } = await setUp();
    const first = await master(testProject, stateDirectory, 'again');
    await Promise.all([first.submit(tasks.square, 8, { key: 'eight' }), first.submit(tasks.square, 9, { key: 'nine' })]);
    await testProject.project.waitFor(() => (testProject.project.workunit('tsmw_again_knine_a1') ? true : undefined), { what: 'the jobs', timeoutMs: 60_000 });
    await first.detach();
    const second = await master(testProject, stateDirectory, 'again');
    expect(second.recovered.map((handle) => handle.key).sort()).toEqual(['eight', 'nine']);
    expect((await Promise.all(second.recovered.map((handle) => handle.result))).sort((a, b) => Number(a) - Number(b))).toEqual([64, 81]);
    expect([...testProject.project.counters().workunitsByName.values()]).toEqual([1, 1]);
  });
});
