import { conformanceTasksUrl, describeTransportConformance } from '@tsmw/core/testing';
import { afterAll, beforeAll } from 'vitest';
import { createBoincTransport, parseJobName } from '@tsmw/transport-boinc';
import { createTestProject, startFakeVolunteers, type FakeVolunteers, type TestProject } from '../test/support/test-project.js';

// The suite against the fake BOINC project: jobs created by bin/create_work, run by phantom
// volunteers (the envelope executed with the deployed bundle), validated and assimilated by the
// project's daemons with tsmw's real assimilator, read from the batch inbox.
let testProject: TestProject;
let volunteers: FakeVolunteers;

beforeAll(async () => {
  testProject = await createTestProject({ tasks: conformanceTasksUrl() });
  process.env['TSMW_BOINC_CONFORMANCE_PROJECT'] = testProject.directory;
  process.env['TSMW_BOINC_CONFORMANCE_APP'] = testProject.app;
  process.env['TSMW_BOINC_CONFORMANCE_URL'] = testProject.project.url;
  process.env['TSMW_BOINC_CONFORMANCE_AUTHENTICATOR'] = testProject.project.authenticator;
  volunteers = await startFakeVolunteers(testProject);
}, 60_000);

afterAll(async () => {
  volunteers?.stop();
  await testProject?.close();
});

/** Workunits created per task id (`k:<key>`), every generation of a key counted, duplicates included. */
function countWork(batch: string): ReadonlyMap<string, number> {
  const work = new Map<string, number>();
  for (const [name, times] of testProject.project.counters().workunitsByName) {
    const parts = parseJobName(name);
    if (parts?.batch !== batch) continue;
    const taskId = parts.keyToken.startsWith('k') ? `k:${parts.keyToken.slice(1)}` : parts.keyToken;
    work.set(taskId, (work.get(taskId) ?? 0) + times);
  }
  return work;
}

// Cancelled tasks' jobs are aborted on the server through the project's abort_jobs.
const transport = () =>
  createBoincTransport({ app: testProject.app, projectHome: testProject.directory, url: testProject.project.url, authenticator: testProject.project.authenticator, scanIntervalMs: 1000 });

describeTransportConformance('BOINC transport on the server host (fake project)', transport, {
  parallelism: 4,
  scaleTasks: 200,
  testTimeoutMs: 300_000,
  skip: {
    // BOINC keeps a checkpoint in the volunteer's slot, for that host's next run of the job (after a
    // suspend, a quit or a restart: tested in @tsmw/client-runtime's run-runtime tests); a retry the
    // master sends is a new job that may go to any host, and starts afresh.
    checkpoint: 'a retry is a new BOINC job on any host; checkpoints resume a job on its own host (client-runtime tests)',
  },
  durable: {
    killTestTasks: Number(process.env['TSMW_BOINC_CONFORMANCE_KILL_TASKS'] ?? 200),
    transportModule: new URL('../test/fixtures/conformance-transport.mjs', import.meta.url),
    runWaitingTasks: async (batch) => {
      await testProject.project.waitFor(
        () => {
          const mine = testProject.project.workunits().filter((workunit) => parseJobName(workunit.name)?.batch === batch);
          return mine.length > 0 && mine.every((workunit) => workunit.assimilateState === 2) ? true : undefined;
        },
        { timeoutMs: 120_000, what: `the jobs of batch ${batch} to be assimilated` },
      );
    },
    countWork: async (batch) => countWork(batch),
  },
});
