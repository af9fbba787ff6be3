import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hashTaskModule } from '@tsmw/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchStore, resolveJobOptions, tsmwProjectLayout, type NewTaskRecord } from '@tsmw/transport-boinc';
import { createTestProject, type TestProject } from '../../test/support/test-project.js';
import { createOnServerBackend } from './on-server-backend.js';

// What a crash leaves behind, rebuilt by hand: a chunk recorded in the store whose create_work
// ran fully, in part, or not at all. Resolving it must leave every job created exactly once.
const tasksUrl = new URL('../../test/fixtures/boinc-tasks.mjs', import.meta.url);
const batch = 'crashed';
let testProject: TestProject;
let store: BatchStore;

beforeEach(async () => {
  testProject = await createTestProject({ tasks: tasksUrl });
  store = BatchStore.open({ path: tsmwProjectLayout(testProject.directory).batchStorePath(batch), batch, app: 'tsmw', mode: 'on-server', location: testProject.directory });
});
afterEach(async () => {
  store.close();
  await testProject.close();
});

async function recordedChunk(count: number) {
  const backend = createOnServerBackend({ projectHome: testProject.directory, app: testProject.app });
  await backend.start({ batch, taskModule: { url: tasksUrl.href, hash: hashTaskModule('x'), taskNames: ['square'] }, maxEnvelopeBytes: 1 << 20 }, store);
  const records: NewTaskRecord[] = Array.from({ length: count }, (_, index) => ({
    key: String(index),
    taskId: `k:${index}`,
    taskName: 'square',
    inputHash: undefined,
    attempt: 1,
    generation: 1,
    jobName: `tsmw_${batch}_k${index}_a1`,
    deadline: undefined,
    submittedAt: Date.now(),
  }));
  const plan = (await backend.stage(
    records.map((record) => ({ jobName: record.jobName, envelope: new TextEncoder().encode(`envelope ${record.key}`), files: [] })),
    { options: resolveJobOptions({}, {}, undefined, Date.now()), dataFileNames: [] },
  )) as { arguments: string[]; lines: string[] };
  const chunkId = store.recordChunk(plan, records);
  const createWork = (lines: readonly string[]) =>
    testProject.project.run('create_work', ['--appname', testProject.app, ...plan.arguments, '--stdin'], { stdin: lines.map((line) => `${line}\n`).join('') });
  return { backend, plan, chunkId, names: records.map((record) => record.jobName), createWork };
}

function counts(): Map<string, number> {
  return new Map(testProject.project.counters().workunitsByName);
}

describe('a chunk in doubt after a crash', () => {
  it('that create_work created whole is found created, nothing made twice', async () => {
    const { backend, plan, chunkId, names, createWork } = await recordedChunk(6);
    expect((await createWork(plan.lines)).exitCode).toBe(0);
    const outcome = await backend.resolve(store.chunk(chunkId)!);
    expect([...outcome.created].sort()).toEqual([...names].sort());
    expect(outcome.failed.size).toBe(0);
    expect([...counts().values()]).toEqual([1, 1, 1, 1, 1, 1]);
    // The rerun of the whole chunk was refused, then the last job alone: two probes, no job by job.
    expect(testProject.project.calls('create_work').filter((call) => call.exitCode !== undefined)).toHaveLength(3);
  });

  it('that never ran is created', async () => {
    const { backend, chunkId, names } = await recordedChunk(4);
    const outcome = await backend.resolve(store.chunk(chunkId)!);
    expect([...outcome.created]).toEqual(names);
    expect(counts().size).toBe(4);
    expect([...counts().values()].every((times) => times === 1)).toBe(true);
  });

  it('of which a first part exists is completed job by job', async () => {
    const { backend, plan, chunkId, names, createWork } = await recordedChunk(5);
    expect((await createWork(plan.lines.slice(0, 2))).exitCode).toBe(0);
    const outcome = await backend.resolve(store.chunk(chunkId)!);
    expect([...outcome.created].sort()).toEqual([...names].sort());
    expect(outcome.failed.size).toBe(0);
    expect(counts().size).toBe(5);
    expect([...counts().values()].every((times) => times === 1)).toBe(true);
  });

  it('that create_work refuses for another reason fails each job with what create_work said', async () => {
    const { backend, plan, chunkId, names } = await recordedChunk(3);
    const template = plan.arguments[plan.arguments.indexOf('--wu_template') + 1]!;
    await rm(join(testProject.directory, template));
    const outcome = await backend.resolve(store.chunk(chunkId)!);
    expect(outcome.created).toEqual([]);
    expect([...outcome.failed.keys()]).toEqual(names);
    expect(outcome.failed.get(names[0]!)).toMatchObject({ kind: 'create-work', exitStatus: 1, message: expect.stringMatching(/bin\/create_work exited with status 1: .+/) });
    expect(counts().size).toBe(0);
  });
});
