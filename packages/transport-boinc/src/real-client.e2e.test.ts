// The whole way with a REAL BOINC client (7.20.5): tasks submitted through the transport on the
// fake project's server side run in the client under @tsmw/client-runtime (the app's main
// program, the bundled task module beside it), are uploaded, validated, handed to tsmw's
// assimilator by the project's script_assimilator, and read from the batch's inbox.
import { existsSync } from 'node:fs';
import { runtimeBundlePath } from '@tsmw/client-runtime';
import { createBoincClientHarness, findBoincClient, ResultOutcomeCode, type BoincClientHarness } from '@tsmw/boinc-test-server';
import { createMaster, TaskCancelledError, TaskFailedError, type Master } from '@tsmw/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createBoincTransport, workunitErrorBits } from '@tsmw/transport-boinc';
import { createTestProject, type TestProject } from '../test/support/test-project.js';
import * as tasks from '../test/fixtures/boinc-tasks.mjs';

const tasksUrl = new URL('../test/fixtures/boinc-tasks.mjs', import.meta.url);
const boincPath = findBoincClient();
const inCi = process.env['CI'] === 'true';
const skipReason = 'the BOINC client is not installed (apt-get install -y --no-install-recommends boinc-client)';
if (boincPath === null && !inCi) console.warn(`skipping the real-client e2e test of the BOINC transport: ${skipReason}`);
const debug = process.env['TSMW_DEBUG_BOINC'] === '1' ? (line: string) => console.log(line) : undefined;

describe.skipIf(boincPath === null && !inCi)('the BOINC transport with a real BOINC client', () => {
  let testProject: TestProject | undefined;
  let client: BoincClientHarness | undefined;
  let master: Master | undefined;

  afterAll(async () => {
    await master?.close({ force: true });
    await client?.close();
    await testProject?.close();
  });

  it('runs tasks in the client, rebuilds a thrown error, and aborts a cancelled task on the server', async () => {
    expect(boincPath, skipReason).not.toBeNull();
    expect(existsSync(runtimeBundlePath()), `the runtime bundle ${runtimeBundlePath()} (build @tsmw/client-runtime first)`).toBe(true);
    testProject = await createTestProject({ tasks: tasksUrl, projectOptions: { nextRpcDelaySeconds: 3, ...(debug ? { log: debug } : {}) } });
    const project = testProject.project;
    master = await createMaster({
      transport: createBoincTransport({ app: testProject.app, projectHome: testProject.directory, url: project.url, authenticator: project.authenticator, scanIntervalMs: 1000 }),
      tasks: tasksUrl,
      batch: 'e2e',
    });
    // Everything is queued before the client attaches: a first reply without work backs it off.
    const squares = await Promise.all([3, 4, 5].map((n) => master!.submit(tasks.square, n, { key: `square-${n}` })));
    const thrower = await master.submit(tasks.fail, 'thrown on a volunteer', { key: 'thrower' });
    const cancelled = await master.submit(tasks.square, 99, { key: 'cancelled' });
    await project.waitFor(() => (project.workunit('tsmw_e2e_kcancelled_a1') !== undefined ? true : undefined), { what: 'the workunits to be created', timeoutMs: 60_000 });
    cancelled.cancel();
    await expect(cancelled.result).rejects.toSatisfy((error: unknown) => TaskCancelledError.isInstance(error));
    // Aborted through BOINC's abort_jobs before any host got it.
    await project.waitFor(() => ((project.workunit('tsmw_e2e_kcancelled_a1')!.errorMask & workunitErrorBits.cancelled) !== 0 ? true : undefined), {
      what: 'the cancelled job to be aborted on the server',
      timeoutMs: 60_000,
    });

    client = createBoincClientHarness({
      serverUrl: project.url,
      appName: testProject.app,
      versionNum: 100,
      appFiles: [
        { name: 'tsmw-runtime_0.1.0.mjs', path: runtimeBundlePath(), mainProgram: true },
        { name: `tsmw_tasks_${testProject.bundle.hash.slice(0, 12)}.mjs`, data: testProject.bundle.code, openName: 'tasks.mjs' },
      ],
      ncpus: 2,
      startTimeoutMs: 60_000,
      ...(debug ? { onOutput: debug } : {}),
    });
    await client.start();

    expect(await Promise.all(squares.map((handle) => handle.result))).toEqual([9, 16, 25]);
    const error = await thrower.result.catch((caught: unknown) => caught);
    expect(TaskFailedError.isInstance(error)).toBe(true);
    expect((error as TaskFailedError).cause).toMatchObject({ name: 'RangeError', message: 'thrown on a volunteer' });
    // The volunteers' results came through the client: uploaded outputs and assimilator runs.
    for (const name of ['tsmw_e2e_ksquare-3_a1', 'tsmw_e2e_kthrower_a1']) {
      const workunit = project.workunit(name)!;
      expect(workunit.canonicalResultId).toBeGreaterThan(0);
      // The master may read the inbox before the double has noted the assimilator's exit.
      await project.waitFor(() => (project.assimilatorRuns.some((run) => run.workunitName === name && run.exitCode === 0) ? true : undefined), { what: `the assimilation of ${name}` });
    }
    expect(project.workunit('tsmw_e2e_kcancelled_a1')!.results.every((result) => result.outcome !== ResultOutcomeCode.success)).toBe(true);
    expect([...project.counters().workunitsByName.values()].every((times) => times === 1)).toBe(true);
  }, 180_000);
});
