// SIGKILL of a master half way through creating a batch of 1,000 jobs, then a master with the
// same batch: no workunit twice (counted by the fake project's database), every result returned.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createMaster } from '@tsmw/core';
import { afterAll, expect, it } from 'vitest';
import { createBoincTransport } from '@tsmw/transport-boinc';
import { createTestProject, startFakeVolunteers, type FakeVolunteers, type TestProject } from '../test/support/test-project.js';
import * as tasks from '../test/fixtures/boinc-tasks.mjs';

const tasksUrl = new URL('../test/fixtures/boinc-tasks.mjs', import.meta.url);
const count = Number(process.env['TSMW_BOINC_KILL_TASKS'] ?? 1000);
const chunkSize = 100;
let testProject: TestProject | undefined;
let volunteers: FakeVolunteers | undefined;

afterAll(async () => {
  volunteers?.stop();
  await testProject?.close();
});

it(`a master SIGKILLed while creating ${count} jobs is followed by one that gets every result, no job created twice`, async () => {
  testProject = await createTestProject({ tasks: tasksUrl });
  const project = testProject.project;
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../test/fixtures/submitting-master.mjs', import.meta.url)), JSON.stringify({ projectHome: testProject.directory, app: testProject.app, batch: 'killed', count, chunkSize })],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  // Half way through: the sixth of ten create_work runs has started.
  const half = Math.ceil(count / chunkSize / 2) + 1;
  await project.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the submitting master exited early: ${stderr}`);
      return project.calls('create_work').filter((call) => call.exitCode === undefined).length >= half ? true : undefined;
    },
    { timeoutMs: 300_000, what: `create_work run ${half}` },
  );
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const before = project.counters().workunitsByName.size;
  expect(before).toBeLessThan(count);

  volunteers = await startFakeVolunteers(testProject);
  const master = await createMaster({ transport: createBoincTransport({ app: testProject.app, projectHome: testProject.directory, chunkSize }), tasks: tasksUrl, batch: 'killed' });
  try {
    expect(master.stats().recovered).toBeGreaterThan(0);
    const inputs = Array.from({ length: count }, (_, index) => index);
    expect(await master.map(tasks.square, inputs)).toEqual(inputs.map((n) => n * n));
  } finally {
    await master.close();
  }
  const workunits = project.counters().workunitsByName;
  expect(workunits.size).toBe(count);
  expect([...workunits.values()].filter((times) => times !== 1)).toEqual([]);
}, 1_800_000);
