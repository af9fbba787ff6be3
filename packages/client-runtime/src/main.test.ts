// The runtime run by hand (no init_data.xml): the bin as a volunteer's Node runs it.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResultEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleTaskModule } from '../test/bundle-task-module.js';
import { startRuntime } from '../test/run-runtime-bin.js';

const fixture = fileURLToPath(new URL('../test/fixtures/runtime-tasks.ts', import.meta.url));
let tasks: { bytes: Uint8Array; moduleHash: string };
let dir: string;
const dirs: string[] = [];

beforeAll(async () => {
  tasks = await bundleTaskModule(fixture);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsmw-runtime-'));
  dirs.push(dir);
  await writeFile(join(dir, 'tasks.mjs'), tasks.bytes);
});
afterAll(async () => {
  for (const each of dirs) await rm(each, { recursive: true, force: true });
});

function envelope(taskName: string, input: unknown, overrides: { moduleHash?: string; taskId?: string } = {}): Uint8Array {
  return encodeTaskEnvelope({
    kind: 'tsmw-task',
    version: 1,
    taskId: overrides.taskId ?? `t-${taskName}`,
    taskName,
    moduleHash: overrides.moduleHash ?? tasks.moduleHash,
    attempt: 1,
    input,
  });
}

const byHand = ['--input', 'in.msgpack', '--output', 'out.msgpack', '--tasks', './tasks.mjs'];

describe('tsmw-runtime by hand', () => {
  it('runs a task envelope into a result envelope and writes boinc_finish_called', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('square', { n: 12 }));
    const { code, stderr } = await startRuntime(dir, byHand).exited;
    expect(code).toBe(0);
    // It says once that it runs without a client, and nothing else.
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tsmw-runtime: no init_data\.xml in .*: running by hand, without a BOINC client$/)]);
    const result = decodeResultEnvelope(await readFile(join(dir, 'out.msgpack')));
    expect(result).toMatchObject({ ok: true, output: 144, taskId: 't-square', attempt: 1 });
    expect(result.host?.runtime).toMatch(/^node \d+\.\d+\.\d+; tsmw-runtime \d/);
    expect(await readFile(join(dir, 'boinc_finish_called'), 'utf8')).toBe('0\n');
  });

  it('sends a task that throws back as an error result (exit 0, finish file)', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('fail', { message: 'no luck' }));
    const { code } = await startRuntime(dir, byHand).exited;
    expect(code).toBe(0);
    const result = decodeResultEnvelope(await readFile(join(dir, 'out.msgpack')));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ name: 'Error', message: 'no luck', code: 'E_FIXTURE' });
    expect(existsSync(join(dir, 'boinc_finish_called'))).toBe(true);
  });

  it('sends an error thrown outside the task\'s promise back as an error result', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('strayThrow', null));
    const { code } = await startRuntime(dir, byHand).exited;
    expect(code).toBe(0);
    const result = decodeResultEnvelope(await readFile(join(dir, 'out.msgpack')));
    expect(result).toMatchObject({ ok: false, taskId: 't-strayThrow', error: { name: 'TypeError', message: 'thrown from a timer' } });
  });

  it('fails with the task process\'s last stderr line when it exits without a result', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('exitEarly', null));
    const { code, stderr } = await startRuntime(dir, byHand).exited;
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toBe('tsmw-runtime: the task process exited with code 3 before returning a result: about to exit with 3');
    expect(existsSync(join(dir, 'boinc_finish_called'))).toBe(false);
  });

  it('refuses an input that is not a task envelope: exit 1, one line on stderr, no finish file', async () => {
    await writeFile(join(dir, 'in.msgpack'), 'this is not msgpack at all');
    const { code, stderr } = await startRuntime(dir, byHand).exited;
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^tsmw-runtime: the input "in\.msgpack" is not a valid task envelope: .+/);
    expect(existsSync(join(dir, 'out.msgpack'))).toBe(false);
    expect(existsSync(join(dir, 'boinc_finish_called'))).toBe(false);
  });

  it('refuses a task module whose hash differs from the envelope', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('square', { n: 2 }, { moduleHash: 'f'.repeat(64) }));
    const { code, stderr } = await startRuntime(dir, byHand).exited;
    expect(code).toBe(1);
    expect(stderr).toContain(`tsmw-runtime: task module hash mismatch: task t-square was submitted against task module ${'f'.repeat(64)}, but "./tasks.mjs"`);
    expect(stderr).toContain(tasks.moduleHash);
    expect(existsSync(join(dir, 'boinc_finish_called'))).toBe(false);
  });

  it('fails with a reason for a missing input, a missing or broken task module, and bad arguments', async () => {
    let run = await startRuntime(dir, byHand).exited;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/tsmw-runtime: cannot read the input "in\.msgpack" \(.*in\.msgpack\): ENOENT/);

    const broken = Buffer.from('export const x = ;\n');
    const { createHash } = await import('node:crypto');
    await writeFile(join(dir, 'broken.mjs'), broken);
    await writeFile(join(dir, 'in.msgpack'), envelope('square', { n: 2 }, { moduleHash: createHash('sha256').update(broken).digest('hex') }));
    run = await startRuntime(dir, [...byHand.slice(0, 4), '--tasks', 'broken.mjs']).exited;
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n').pop()).toMatch(/^tsmw-runtime: cannot load the task module .*broken\.mjs: .*Unexpected token/);

    run = await startRuntime(dir, ['--nonsense']).exited;
    expect(run).toMatchObject({ code: 1, stderr: 'tsmw-runtime: unknown argument "--nonsense" (see --help)\n' });
    run = await startRuntime(dir, ['--help']).exited;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: tsmw-runtime');
  });

  it('imports a task module whose file name does not end in .mjs (physical names need not)', async () => {
    await writeFile(join(dir, 'tasks_v1'), tasks.bytes);
    await writeFile(join(dir, 'in.msgpack'), envelope('square', { n: 3 }));
    const { code } = await startRuntime(dir, [...byHand.slice(0, 4), '--tasks', 'tasks_v1']).exited;
    expect(code).toBe(0);
    expect(decodeResultEnvelope(await readFile(join(dir, 'out.msgpack')))).toMatchObject({ ok: true, output: 9 });
  });

  it('asks the client to retry later when the task runs out of memory (boinc_temporary_exit)', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('hog', null));
    const { code, stderr } = await startRuntime(dir, byHand, { NODE_OPTIONS: '--max-old-space-size=48' }).exited;
    expect(code).toBe(0);
    expect(await readFile(join(dir, 'boinc_temporary_exit'), 'utf8')).toMatch(/^300\nout of memory: the task process .+\n$/);
    expect(existsSync(join(dir, 'boinc_finish_called'))).toBe(false);
    expect(stderr).toContain('heap out of memory');
  });

  it('keeps checkpoints per task id: a run of the same envelope restores, another task does not', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('counter', { target: 3, stepMs: 1 }, { taskId: 'c1' }));
    expect((await startRuntime(dir, byHand).exited).code).toBe(0);
    expect(decodeResultEnvelope(await readFile(join(dir, 'out.msgpack')))).toMatchObject({ ok: true, output: { restoredFrom: 0, count: 3 } });
    await writeFile(join(dir, 'in.msgpack'), envelope('counter', { target: 5, stepMs: 1 }, { taskId: 'c1' }));
    expect((await startRuntime(dir, byHand).exited).code).toBe(0);
    expect(decodeResultEnvelope(await readFile(join(dir, 'out.msgpack')))).toMatchObject({ ok: true, output: { restoredFrom: 3, count: 5, runs: 2 } });
    await writeFile(join(dir, 'in.msgpack'), envelope('counter', { target: 2, stepMs: 1 }, { taskId: 'c2' }));
    expect((await startRuntime(dir, byHand).exited).code).toBe(0);
    expect(decodeResultEnvelope(await readFile(join(dir, 'out.msgpack')))).toMatchObject({ ok: true, output: { restoredFrom: 0, count: 2, runs: 1 } });
  });

  it('writes only regular files: a named pipe, a device or a directory as the output is refused in one line, untouched', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('square', { n: 3 }));
    const targets: [string, RegExp][] = [];
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    targets.push([join(dir, 'pipe'), /is a named pipe, not a regular file/]);
    await mkdir(join(dir, 'folder'));
    targets.push([join(dir, 'folder'), /is a directory, not a regular file/]);
    if (process.getuid?.() === 0) {
      // What /dev/full is (character device 1,7), made here: as root the atomic rename once replaced /dev/full itself.
      execFileSync('mknod', [join(dir, 'full'), 'c', '1', '7']);
      targets.push([join(dir, 'full'), /is a character device, not a regular file/]);
      await symlink(join(dir, 'full'), join(dir, 'link-to-full'));
      targets.push([join(dir, 'link-to-full'), /full is a character device, not a regular file/]);
    }
    for (const [target, reason] of targets) {
      const run = startRuntime(dir, ['--input', 'in.msgpack', '--output', target, '--tasks', './tasks.mjs']);
      const { code, stderr } = await run.exited;
      expect(code, target).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines[0]).toMatch(/no init_data\.xml/);
      expect(lines.slice(1)).toEqual([expect.stringMatching(new RegExp(`^tsmw-runtime: the output ".*" cannot be written: .*${reason.source}: the runtime writes only regular files; nothing was run$`))]);
      expect(existsSync(join(dir, 'boinc_finish_called'))).toBe(false);
    }
    expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
    if (process.getuid?.() === 0) expect(lstatSync(join(dir, 'full')).isCharacterDevice()).toBe(true);
  });

  it('follows a symbolic link to a regular file: the file is replaced, the link stays', async () => {
    await writeFile(join(dir, 'in.msgpack'), envelope('square', { n: 4 }));
    await writeFile(join(dir, 'real-out'), 'old');
    await symlink(join(dir, 'real-out'), join(dir, 'out-link'));
    const { code } = await startRuntime(dir, ['--input', 'in.msgpack', '--output', 'out-link', '--tasks', './tasks.mjs']).exited;
    expect(code).toBe(0);
    expect(lstatSync(join(dir, 'out-link')).isSymbolicLink()).toBe(true);
    expect(decodeResultEnvelope(await readFile(join(dir, 'real-out')))).toMatchObject({ ok: true, output: 16 });
  });
});