// @tsmw/client-runtime under a real BOINC client (7.20.5): the runtime bundle is the app's main
// program, a bundled task module its second file; the test server hands out task envelopes and
// receives result envelopes. One server and one client serve every case (about 2 minutes).
import { existsSync } from 'node:fs';
import { runtimeBundlePath } from '@tsmw/client-runtime';
import { TaskFailedError, decodeResultEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import type { ResultEnvelope } from '@tsmw/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBoincClientHarness, createBoincTestServer, findBoincClient } from '../src/index.js';
import type { BoincClientHarness, BoincClientTask, BoincTestServer, ReportedResult } from '../src/index.js';
import { bundleRuntimeTasks } from './bundle-runtime-tasks.js';

const boincPath = findBoincClient();
const inCi = process.env['CI'] === 'true';
/** TSMW_DEBUG_BOINC=1 prints the server's and the client's logs as they happen. */
const debug = process.env['TSMW_DEBUG_BOINC'] === '1' ? (line: string) => console.log(line) : undefined;
const skipReason = 'the BOINC client is not installed (apt-get install -y --no-install-recommends boinc-client)';
if (boincPath === null && !inCi) console.warn(`skipping the client-runtime e2e test: ${skipReason}`);

const appName = 'tsmw';
const versionNum = 100;
const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe.skipIf(boincPath === null && !inCi)('@tsmw/client-runtime under a real BOINC client', () => {
  let server: BoincTestServer;
  let client: BoincClientHarness;
  let moduleHash = '';
  /** Every task as `boinccmd --get_tasks` showed it, sampled twice a second. */
  const samples = new Map<string, BoincClientTask[]>();
  let sampling = true;
  let sampler: Promise<void> | undefined;
  let jobNumber = 0;
  /** The jobs queued before the client starts. */
  const first: { squares: string[]; fail: string; progress: string; corrupt: string } = { squares: [], fail: '', progress: '', corrupt: '' };

  function addTask(taskName: string, input: unknown, label = taskName): string {
    jobNumber += 1;
    const name = `e2e_${label}_${jobNumber}`;
    const envelope = encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: name, taskName, moduleHash, attempt: 1, input });
    server.addJob({ name, inputFiles: [{ openName: 'in', data: envelope }], outputFiles: [{ openName: 'out', maxBytes: 1_000_000 }] });
    return name;
  }

  /** Waits for results, nudging the client (`--project update`) past any back-off every few seconds. */
  async function waitReported(names: readonly string[], timeoutMs = 90_000): Promise<ReportedResult[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await server.waitForResults(names, { timeoutMs: 4000 });
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await client.projectUpdate().catch(() => {});
      }
    }
  }

  async function waitForTask(name: string, what: string, check: (task: BoincClientTask) => boolean, timeoutMs = 60_000): Promise<BoincClientTask> {
    const deadline = Date.now() + timeoutMs;
    let nudged = Date.now();
    for (;;) {
      const task = (await client.getTasks()).find((each) => each.name === `${name}_0`);
      if (task !== undefined && check(task)) return task;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${name} to be ${what}; last seen: ${JSON.stringify(task?.fields ?? 'not on the client')}`);
      if (task === undefined && Date.now() - nudged > 4000) {
        nudged = Date.now();
        await client.projectUpdate().catch(() => {});
      }
      await sleep(250);
    }
  }

  function resultOf(name: string): ResultEnvelope {
    const bytes = server.readUpload(name);
    expect(bytes, `an upload for ${name}`).toBeDefined();
    return decodeResultEnvelope(bytes!);
  }

  beforeAll(async () => {
    // Under CI a missing client is a failure, not a skip.
    expect(boincPath, skipReason).not.toBeNull();
    const bundle = runtimeBundlePath();
    expect(existsSync(bundle), `the runtime bundle ${bundle} (build @tsmw/client-runtime first)`).toBe(true);
    const taskModule = await bundleRuntimeTasks();
    moduleHash = taskModule.hash;
    server = createBoincTestServer({ appName, versionNum, nextRpcDelaySeconds: 3, ...(debug ? { log: debug } : {}) });
    await server.start();
    client = createBoincClientHarness({
      serverUrl: server.url,
      appName,
      versionNum,
      appFiles: [
        // The runtime runs with the volunteer's node (`#!/usr/bin/env node`); the task module is its second file.
        { name: 'tsmw-runtime_0.1.0.mjs', path: bundle, mainProgram: true },
        { name: `tsmw_tasks_${moduleHash.slice(0, 12)}.mjs`, data: taskModule.code, openName: 'tasks.mjs' },
      ],
      apiVersion: '7.20.0',
      ncpus: 2,
      ...(debug ? { onOutput: debug } : {}),
    });
    // Queued before the client attaches (a first reply without work backs it off for minutes).
    first.squares = [3, 4, 5].map((n) => addTask('square', { n }));
    first.fail = addTask('fail', { message: 'input too big' });
    first.progress = addTask('sleepy', { ms: 12_000, steps: 48 }, 'progress');
    first.corrupt = `e2e_corrupt_${(jobNumber += 1)}`;
    server.addJob({
      name: first.corrupt,
      inputFiles: [{ openName: 'in', data: Buffer.from('\xc1 this is not a task envelope') }],
      outputFiles: [{ openName: 'out', maxBytes: 1_000_000 }],
    });
    await client.start();
    sampler = (async () => {
      while (sampling) {
        try {
          for (const task of await client.getTasks()) {
            const list = samples.get(task.name) ?? [];
            list.push(task);
            samples.set(task.name, list);
          }
        } catch {
          // the client is restarting
        }
        await sleep(500);
      }
    })();
  }, 60_000);

  afterAll(async () => {
    sampling = false;
    await sampler;
    await client?.close();
    await server?.close();
  });


  it('runs three tasks; their uploaded result envelopes decode to the right outputs', async () => {
    const results = await waitReported(first.squares);
    for (const result of results) expect(result).toMatchObject({ exitStatus: 0, outcome: 'success' });
    expect(first.squares.map((name) => resultOf(name))).toMatchObject([
      { ok: true, output: { square: 9 } },
      { ok: true, output: { square: 16 } },
      { ok: true, output: { square: 25 } },
    ]);
    expect(resultOf(first.squares[0]!).host).toMatchObject({ platform: 'linux', runtime: expect.stringContaining('tsmw-runtime') });
  }, 120_000);

  it('sends a task that throws back as a result, rebuilt on the master as a task error', async () => {
    const [reported] = await waitReported([first.fail]);
    expect(reported).toMatchObject({ exitStatus: 0, outcome: 'success' });
    const result = resultOf(first.fail);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = new TaskFailedError(result.taskId, 'fail', result.error);
    expect(TaskFailedError.isInstance(error)).toBe(true);
    expect(error.message).toBe(`Task fail (${first.fail}) failed: RangeError: input too big`);
    expect(error.remoteCode).toBe('E_TOO_BIG');
    expect(error.cause).toMatchObject({ name: 'RangeError', message: 'input too big', code: 'E_TOO_BIG' });
  }, 120_000);

  it('ends an input that is not a task envelope as a compute error with the runtime\'s one-line reason in stderr_out', async () => {
    const [reported] = await waitReported([first.corrupt]);
    expect(reported).toMatchObject({ exitStatus: 1, outcome: 'client-error' });
    expect(reported?.stderrText).toMatch(/tsmw-runtime: the input "in" is not a valid task envelope: .+/);
  }, 120_000);

  it('reports progress: boinccmd --get_tasks shows a fraction done between 0 and 1 while the task runs', async () => {
    const [reported] = await waitReported([first.progress]);
    expect(reported).toMatchObject({ exitStatus: 0, outcome: 'success' });
    expect(resultOf(first.progress)).toMatchObject({ ok: true, output: { slept: 12_000 } });
    const seen = (samples.get(`${first.progress}_0`) ?? []).filter((task) => task.activeTaskState === 'EXECUTING').map((task) => task.fractionDone ?? 0);
    const between = seen.filter((fraction) => fraction > 0 && fraction < 1);
    expect(between.length, `fractions seen: ${seen.join(', ')}`).toBeGreaterThanOrEqual(3);
    expect(between).toEqual([...between].sort((a, b) => a - b));
    // The client took CPU time from the runtime's status messages too.
    expect(samples.get(`${first.progress}_0`)?.some((task) => (task.currentCpuTime ?? 0) > 0)).toBe(true);
  }, 120_000);

  it('suspends and resumes a task through boinccmd: the task pauses and completes correctly', async () => {
    const name = addTask('spin', { ms: 5000 });
    await client.projectUpdate();
    await waitForTask(name, 'executing with progress', (task) => task.activeTaskState === 'EXECUTING' && (task.fractionDone ?? 0) > 0.1);
    await client.suspendTask(`${name}_0`);
    // A task that never checkpointed gets <suspend/> (not <quit/>): it stays in memory, paused.
    await waitForTask(name, 'suspended', (task) => task.activeTaskState === 'SUSPENDED', 15_000);
    // The runtime reads <suspend/> at its next poll (within a second); from then on nothing moves.
    await sleep(1500);
    const suspended = await waitForTask(name, 'suspended', () => true);
    await sleep(3000);
    const still = await waitForTask(name, 'still suspended', () => true);
    expect(still.activeTaskState).toBe('SUSPENDED');
    expect(still.pid).toBe(suspended.pid); // not restarted
    expect(still.fractionDone).toBe(suspended.fractionDone);
    await client.resumeTask(`${name}_0`);
    const [reported] = await waitReported([name]);
    expect(reported).toMatchObject({ exitStatus: 0, outcome: 'success' });
    const result = resultOf(name);
    // The CPU time of the task process reached the client, not just the runtime's (a few tenths
    // of a second): all of it, or all but the last second when the final status found the
    // channel still full. (How much CPU 5 s of spinning gets depends on the machine's load.)
    expect(result.ok).toBe(true);
    if (result.ok) {
      const output = result.output as { wallMs: number; longestGapMs: number; cpuMs: number };
      const taskCpuSeconds = output.cpuMs / 1000;
      expect(reported?.finalCpuTime, `task CPU ${taskCpuSeconds} s`).toBeGreaterThan(Math.max(0.5, taskCpuSeconds - 1.1));
      // The synchronous loop itself stood still for about as long as the task was suspended
      // (at least 4 s, less up to a second for each of the runtime's two polls).
      expect(output.longestGapMs).toBeGreaterThan(2500);
      expect(output.wallMs).toBeGreaterThan(7000);
    }
  }, 120_000);

  it('resumes a checkpointing task from its checkpoint after the client quits and starts again', async () => {
    const name = addTask('counter', { target: 40, stepMs: 250 });
    await client.projectUpdate();
    const before = await waitForTask(name, 'checkpointed a quarter of the way', (task) => task.activeTaskState === 'EXECUTING' && (task.checkpointCpuTime ?? 0) > 0 && (task.fractionDone ?? 0) >= 0.25);
    const quitAt = Date.now();
    await client.quit(30_000);
    const restartAt = Date.now();
    await client.start();
    console.info(`client quit in ${restartAt - quitAt} ms, started again in ${Date.now() - restartAt} ms`);
    await waitForTask(name, 'running again', (task) => task.activeTaskState === 'EXECUTING' && task.pid !== before.pid);
    const [reported] = await waitReported([name]);
    expect(reported).toMatchObject({ exitStatus: 0, outcome: 'success' });
    const result = resultOf(name);
    expect(result).toMatchObject({ ok: true, output: { count: 40, runs: 2 } });
    if (result.ok) expect((result.output as { restoredFrom: number }).restoredFrom).toBeGreaterThanOrEqual(10);
  }, 150_000);
});
