import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeResultEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeBoincProject, type FakeBoincProject } from './create-fake-boinc-project.js';
import { ResultOutcome } from './fake-project/project-daemons.js';
import { bundleRuntimeTasks } from '../test/bundle-runtime-tasks.js';
import { startPhantomVolunteers, type PhantomVolunteerBundle, type PhantomVolunteers } from './start-phantom-volunteers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(): Promise<{ project: FakeBoincProject; bundle: PhantomVolunteerBundle; submit: (name: string, n: number, commandLine?: string) => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'tsmw-phantom-volunteers-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const project = await createFakeBoincProject({ directory: join(root, 'project'), apps: [{ name: 'nodeapp' }], daemons: ['sample_trivial_validator -d 3 --app nodeapp'], daemonIntervalMs: 20 });
  cleanups.push(() => project.close());
  const bundle = await bundleRuntimeTasks();
  const submit = async (name: string, n: number, commandLine?: string): Promise<void> => {
    const file = `${name}.in`;
    await writeFile(join(project.directory, 'download', file), encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: name, taskName: 'square', moduleHash: bundle.hash, attempt: 1, input: { n } }));
    expect((await project.run('stage_file', [join(project.directory, 'download', file)])).exitCode).toBe(0);
    const line = `--wu_name ${name}${commandLine === undefined ? '' : ` --command_line "${commandLine}"`} ${file}\n`;
    expect(project.createWorkInProcess(['--appname', 'nodeapp', '--stdin'], line).exitCode).toBe(0);
  };
  return { project, bundle, submit };
}

async function canonicalOutput(project: FakeBoincProject, name: string): Promise<unknown> {
  const workunit = await project.waitFor(() => {
    const found = project.workunit(name);
    return found !== undefined && found.canonicalResultId !== 0 ? found : undefined;
  }, { what: `a canonical result for ${name}` });
  const canonical = workunit.results.find((result) => result.id === workunit.canonicalResultId)!;
  expect(canonical.hostId).toBe(-1);
  const envelope = decodeResultEnvelope(new Uint8Array(await readFile(canonical.outputs[0]!.path)));
  return envelope.ok ? envelope.output : envelope.error;
}

function start(project: FakeBoincProject, options: Parameters<typeof startPhantomVolunteers>[1]): Promise<PhantomVolunteers> {
  return startPhantomVolunteers(project, options).then((volunteers) => {
    cleanups.push(() => volunteers.stop());
    return volunteers;
  });
}

describe('startPhantomVolunteers', () => {
  it("runs each new workunit's envelope with the bundle and hands its result to the project; held ones wait for release()", async () => {
    const { project, bundle, submit } = await setUp();
    const volunteers = await start(project, { bundle });
    volunteers.hold((name) => name.startsWith('later'));
    await submit('later_1', 3);
    await submit('now_1', 7);
    expect(await canonicalOutput(project, 'now_1')).toEqual({ square: 49 });
    expect(volunteers.ran.has('later_1')).toBe(false);
    expect(project.workunit('later_1')!.results.every((result) => result.hostId === 0)).toBe(true);
    volunteers.release();
    expect(await canonicalOutput(project, 'later_1')).toEqual({ square: 9 });
    expect(volunteers.errors).toEqual([]);
  });

  it('fails a workunit as a client error when told to, or when its envelope breaks the cap on its command line', async () => {
    const { project, bundle, submit } = await setUp();
    const volunteers = await start(project, { bundle, outcome: (name) => (name.startsWith('crash') ? 'client-error' : 'success') });
    await submit('crash_1', 2);
    await submit('capped_1', 2, '--max-envelope-bytes 8');
    for (const name of ['crash_1', 'capped_1']) {
      const failed = await project.waitFor(() => (project.workunit(name)!.errorMask !== 0 ? project.workunit(name) : undefined), { what: `${name} to fail` });
      expect(failed.results.length).toBeGreaterThan(0);
      expect(failed.results.every((result) => result.outcome === ResultOutcome.clientError)).toBe(true);
    }
    // The cap was the volunteers' failure, not the task's: it is kept for the test to see.
    expect(volunteers.errors).toHaveLength(1);
    expect(volunteers.ran).toEqual(new Set(['crash_1', 'capped_1']));
  });
});
