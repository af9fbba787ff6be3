// The runtime in a fake BOINC slot (link files, init_data.xml, an 8192-byte boinc_mmap_file),
// with this test playing the client on the shared-memory channel.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResultEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleTaskModule } from '../test/bundle-task-module.js';
import { nobodyCanRunRuntime, sleep, startRuntime, waitFor } from '../test/run-runtime-bin.js';
import type { RuntimeRun } from '../test/run-runtime-bin.js';
import { readProcessStat } from './process-cpu-time.js';

const fixture = fileURLToPath(new URL('../test/fixtures/runtime-tasks.ts', import.meta.url));
let tasks: { bytes: Uint8Array; moduleHash: string };
let boincDir: string;
let slotDir: string;
let projectDir: string;
let heartbeat: NodeJS.Timeout | undefined;
const runs: RuntimeRun[] = [];

beforeAll(async () => {
  tasks = await bundleTaskModule(fixture);
});
afterAll(() => {
  for (const run of runs) run.process.kill('SIGKILL');
});

interface SlotOptions {
  readonly channel?: boolean;
  readonly clientPid?: number;
  readonly wuCpuTime?: number;
}

async function makeSlot(options: SlotOptions = {}): Promise<void> {
  boincDir = await mkdtemp(join(tmpdir(), 'tsmw-boinc-'));
  slotDir = join(boincDir, 'slots', '3');
  projectDir = join(boincDir, 'projects', '127.0.0.1_8081_project');
  await mkdir(slotDir, { recursive: true });
  await mkdir(projectDir, { recursive: true });
  await writeFile(join(projectDir, 'tsmw_tasks_1.mjs'), tasks.bytes);
  const link = (physical: string): string => `<soft_link>../../projects/127.0.0.1_8081_project/${physical}</soft_link>\n`;
  await writeFile(join(slotDir, 'tasks.mjs'), link('tsmw_tasks_1.mjs'));
  await writeFile(join(slotDir, 'in'), link('job_in'));
  await writeFile(join(slotDir, 'out'), link('job_0_r1_0'));
  const channel = options.channel ?? true;
  await writeFile(
    join(slotDir, 'init_data.xml'),
    [
      '<app_init_data>',
      '<major_version>7</major_version><minor_version>20</minor_version><release>5</release>',
      `<project_dir>${projectDir}</project_dir>`,
      `<boinc_dir>${boincDir}</boinc_dir>`,
      '<wu_name>job</wu_name><result_name>job_0</result_name>',
      channel ? '<shm_key>-1</shm_key>' : '',
      `<client_pid>${options.clientPid ?? process.pid}</client_pid>`,
      `<wu_cpu_time>${(options.wuCpuTime ?? 0).toFixed(6)}</wu_cpu_time>`,
      '<fraction_done_start>0.000000</fraction_done_start><fraction_done_end>1.000000</fraction_done_end>',
      '<host_info><domain_name>volunteer-host</domain_name></host_info>',
      '</app_init_data>',
      '',
    ].join('\n'),
  );
  if (channel) await writeFile(join(slotDir, 'boinc_mmap_file'), Buffer.alloc(8192));
}

async function writeInput(taskName: string, input: unknown, taskId = 'task-1'): Promise<void> {
  await writeFile(
    join(projectDir, 'job_in'),
    encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId, taskName, moduleHash: tasks.moduleHash, attempt: 1, input }),
  );
}

beforeEach(async () => {
  await makeSlot();
});
afterEach(async () => {
  if (heartbeat !== undefined) clearInterval(heartbeat);
  heartbeat = undefined;
  await rm(boincDir, { recursive: true, force: true });
});

// --- the client's side of boinc_mmap_file -------------------------------------------------

function clientSends(offset: number, text: string): boolean {
  const descriptor = openSync(join(slotDir, 'boinc_mmap_file'), 'r+');
  try {
    const flag = Buffer.alloc(1);
    readSync(descriptor, flag, 0, 1, offset);
    if (flag[0] !== 0) return false;
    writeSync(descriptor, Buffer.from(`${text}\0`), 0, text.length + 1, offset + 1);
    writeSync(descriptor, Buffer.from([1]), 0, 1, offset);
    return true;
  } finally {
    closeSync(descriptor);
  }
}

function clientFlag(offset: number): number {
  const descriptor = openSync(join(slotDir, 'boinc_mmap_file'), 'r');
  try {
    const flag = Buffer.alloc(1);
    readSync(descriptor, flag, 0, 1, offset);
    return flag[0] ?? 0;
  } finally {
    closeSync(descriptor);
  }
}

interface Status {
  readonly currentCpuTime: number;
  readonly checkpointCpuTime: number;
  readonly fractionDone: number | undefined;
}

/** Takes the app_status message, as the client does each second, or undefined when none is waiting. */
function clientTakesStatus(): Status | undefined {
  const descriptor = openSync(join(slotDir, 'boinc_mmap_file'), 'r+');
  try {
    const block = Buffer.alloc(1024);
    readSync(descriptor, block, 0, 1024, 5120);
    if (block[0] === 0) return undefined;
    writeSync(descriptor, Buffer.from([0]), 0, 1, 5120);
    const text = block.subarray(1, block.indexOf(0, 1)).toString();
    const number = (tag: string): number | undefined => {
      const match = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(text);
      return match?.[1] === undefined ? undefined : Number(match[1]);
    };
    return { currentCpuTime: number('current_cpu_time') ?? Number.NaN, checkpointCpuTime: number('checkpoint_cpu_time') ?? Number.NaN, fractionDone: number('fraction_done') };
  } finally {
    closeSync(descriptor);
  }
}

function startHeartbeat(): void {
  clientSends(4096, '<heartbeat/><wss>0</wss><max_wss>0</max_wss>');
  heartbeat = setInterval(() => clientSends(4096, '<heartbeat/><wss>0</wss><max_wss>0</max_wss>'), 1000);
}

function start(args: readonly string[] = []): RuntimeRun {
  const run = startRuntime(slotDir, args);
  runs.push(run);
  return run;
}

/** The task process: the runtime's one child. */
function childOf(pid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function isRunning(pid: number): boolean {
  const stat = readProcessStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

const outputPath = (): string => join(projectDir, 'job_0_r1_0');

describe.skipIf(process.platform !== 'linux')('tsmw-runtime in a BOINC slot, with the test as the client', () => {
  it('follows link files, reports CPU time and progress each second while a synchronous task computes, and finishes', async () => {
    await makeSlot({ wuCpuTime: 5 });
    await writeInput('spin', { ms: 3500 });
    startHeartbeat();
    const run = start();
    const statuses: Status[] = [];
    const collector = setInterval(() => {
      const status = clientTakesStatus();
      if (status) statuses.push(status);
    }, 100);
    const { code, stderr } = await run.exited;
    clearInterval(collector);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = decodeResultEnvelope(await readFile(outputPath()));
    expect(result).toMatchObject({ ok: true, host: { hostname: 'volunteer-host' } });
    expect(await readFile(join(slotDir, 'boinc_finish_called'), 'utf8')).toBe('0\n');
    // The task never yielded, yet the channel was served: statuses with a growing fraction done.
    const fractions = statuses.map((status) => status.fractionDone).filter((fraction): fraction is number => fraction !== undefined);
    expect(statuses.length).toBeGreaterThanOrEqual(3);
    expect(fractions.some((fraction) => fraction > 0 && fraction < 1)).toBe(true);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    // CPU time: wu_cpu_time (5 s of earlier runs) plus this run's, which grows as the task spins.
    // (Loose bounds: the machine may be busy with other tests.)
    const cpuTimes = statuses.map((status) => status.currentCpuTime);
    expect(cpuTimes).toEqual([...cpuTimes].sort((a, b) => a - b));
    expect(cpuTimes[cpuTimes.length - 1]).toBeGreaterThan(5.3);
    expect(statuses.every((status) => status.checkpointCpuTime === 5)).toBe(true);
  });

  it('pauses the task on <suspend/> (the task process is stopped, no status is sent) and continues on <resume/>', async () => {
    await writeInput('spin', { ms: 2500 });
    startHeartbeat();
    const run = start();
    const child = await waitFor('the task process', () => childOf(run.process.pid!));
    await waitFor('a first status with progress', () => clientTakesStatus()?.fractionDone);
    expect(clientSends(0, '<suspend/>')).toBe(true);
    await waitFor('the task process to be stopped', () => readProcessStat(child)?.state === 'T', 3000);
    expect(clientFlag(0)).toBe(0); // read
    clientTakesStatus();
    const cpuWhenSuspended = readProcessStat(child)!.cpuSeconds;
    await sleep(2500);
    expect(clientTakesStatus()).toBeUndefined();
    expect(readProcessStat(child)?.cpuSeconds).toBe(cpuWhenSuspended);
    expect(clientSends(0, '<resume/>')).toBe(true);
    const { code } = await run.exited;
    expect(code).toBe(0);
    const result = decodeResultEnvelope(await readFile(outputPath()));
    expect(result.ok).toBe(true);
    if (result.ok) {
      const output = result.output as { wallMs: number; longestGapMs: number };
      // The synchronous loop itself was paused for the suspension (about 2.5 s).
      expect(output.longestGapMs).toBeGreaterThan(2000);
      expect(output.wallMs).toBeGreaterThan(4500);
    }
  });

  it('on <quit/> exits 0 at once without boinc_finish_called, and the next run resumes from the checkpoint', async () => {
    await writeInput('counter', { target: 30, stepMs: 100 });
    startHeartbeat();
    let run = start();
    const child = await waitFor('the task process', () => childOf(run.process.pid!));
    // The client learns of a checkpoint from a change of checkpoint_cpu_time.
    await waitFor('a checkpoint reported', () => {
      const status = clientTakesStatus();
      return status !== undefined && status.checkpointCpuTime > 0 && (status.fractionDone ?? 0) > 0.1;
    });
    expect(clientSends(0, '<quit/>')).toBe(true);
    const quitAt = Date.now();
    const quit = await run.exited;
    expect(Date.now() - quitAt).toBeLessThan(5000); // the next poll (1 s), on a possibly busy machine
    expect(quit.code).toBe(0);
    expect(quit.stderr).toContain('tsmw-runtime: the client asked the task to quit');
    expect(existsSync(join(slotDir, 'boinc_finish_called'))).toBe(false);
    expect(existsSync(outputPath())).toBe(false);
    expect(existsSync(join(slotDir, 'tsmw_checkpoint'))).toBe(true);
    await waitFor('the task process to be gone', () => !isRunning(child));

    // The client restarts the task in the same slot, with the CPU time of the first run.
    await writeFile(join(slotDir, 'boinc_mmap_file'), Buffer.alloc(8192));
    run = start();
    const { code } = await run.exited;
    expect(code).toBe(0);
    const result = decodeResultEnvelope(await readFile(outputPath()));
    expect(result).toMatchObject({ ok: true, output: { count: 30, runs: 2 } });
    if (result.ok) expect((result.output as { restoredFrom: number }).restoredFrom).toBeGreaterThan(3);
  });

  it('on <abort/> kills the task and exits 194', async () => {
    await writeInput('sleepy', { ms: 20_000, steps: 20 });
    startHeartbeat();
    const run = start();
    const child = await waitFor('the task process', () => childOf(run.process.pid!));
    await sleep(300);
    clientSends(0, '<abort/>');
    const { code, stderr } = await run.exited;
    expect(code).toBe(194);
    expect(stderr).toContain('tsmw-runtime: the client aborted the task');
    expect(existsSync(join(slotDir, 'boinc_finish_called'))).toBe(false);
    await waitFor('the task process to be gone', () => !isRunning(child));
  });

  it('on <quit/> while suspended still exits at once', async () => {
    await writeInput('sleepy', { ms: 20_000, steps: 20 });
    startHeartbeat();
    const run = start();
    const child = await waitFor('the task process', () => childOf(run.process.pid!));
    clientSends(0, '<suspend/>');
    await waitFor('the task process to be stopped', () => readProcessStat(child)?.state === 'T', 3000);
    await waitFor('the suspend to be read', () => clientFlag(0) === 0);
    clientSends(0, '<quit/>');
    expect((await run.exited).code).toBe(0);
    await waitFor('the task process to be gone', () => !isRunning(child));
  });

  it('exits 0 (no finish file) and kills the task when the client stops heartbeating', async () => {
    await writeInput('sleepy', { ms: 20_000, steps: 20 });
    const run = start(['--heartbeat-timeout', '2']);
    const child = await waitFor('the task process', () => childOf(run.process.pid!));
    const { code, stderr } = await run.exited;
    expect(code).toBe(0);
    expect(stderr).toContain('tsmw-runtime: no heartbeat from the client for 2 s: stopping');
    expect(existsSync(join(slotDir, 'boinc_finish_called'))).toBe(false);
    await waitFor('the task process to be gone', () => !isRunning(child));
  });

  it('runs without the channel when the app version declares no api_version, and says so once', async () => {
    await makeSlot({ channel: false });
    await writeInput('square', { n: 7 });
    const { code, stderr } = await start().exited;
    expect(code).toBe(0);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('tsmw-runtime: the client shares no boinc_mmap_file')]);
    expect(decodeResultEnvelope(await readFile(outputPath()))).toMatchObject({ ok: true, output: 49 });
  });

  it('reads a data file by its logical name, and refuses a link that leaves the BOINC directory', async () => {
    await writeFile(join(projectDir, 'job_data'), 'some data');
    await writeFile(join(slotDir, 'data.txt'), '<soft_link>../../projects/127.0.0.1_8081_project/job_data</soft_link>\n');
    await writeFile(
      join(projectDir, 'job_in'),
      encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: 'd', taskName: 'readData', moduleHash: tasks.moduleHash, attempt: 1, input: null, fileNames: ['data.txt'] }),
    );
    startHeartbeat();
    expect((await start().exited).code).toBe(0);
    expect(decodeResultEnvelope(await readFile(outputPath()))).toMatchObject({ ok: true, output: 'some data' });

    await writeFile(join(slotDir, 'in'), '<soft_link>../../../../etc/passwd</soft_link>\n');
    const { code, stderr } = await start().exited;
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toMatch(/^tsmw-runtime: cannot resolve the input "in": The logical name "in" resolves to .*outside the BOINC data directory/);
  });

  it('refuses an init_data.xml over 4 MiB in one line (50 MB of unclosed elements once ran it out of memory)', async () => {
    const huge = '<a>'.repeat(Math.floor((50 * 1024 * 1024) / 3));
    await writeFile(join(slotDir, 'init_data.xml'), huge);
    await writeInput('square', { n: 7 });
    const { code, stderr } = await start().exited;
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^tsmw-runtime: init_data\\.xml: .* is ${huge.length} bytes, over the 4194304 bytes \\(4 MiB\\) the runtime reads`))]);
    expect(existsSync(outputPath())).toBe(false);
  });

  // A slot the client's user cannot write in. As root (permission bits do not stop root) the
  // runtime runs as nobody; otherwise the directories are made read-only.
  async function runLocked(lock: 'slot' | 'project'): Promise<{ code: number | null; stderr: string }> {
    await writeInput('square', { n: 7 });
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      await chmod(boincDir, 0o755);
      await chmod(join(boincDir, 'slots'), 0o755);
      await chmod(projectDir, lock === 'project' ? 0o755 : 0o777);
      await chmod(slotDir, lock === 'slot' ? 0o755 : 0o777);
      const run = startRuntime(slotDir, [], {}, { uid: 65534, gid: 65534 });
      runs.push(run);
      return run.exited;
    }
    await chmod(lock === 'project' ? projectDir : slotDir, 0o555);
    try {
      const run = startRuntime(slotDir);
      runs.push(run);
      return await run.exited;
    } finally {
      await chmod(lock === 'project' ? projectDir : slotDir, 0o755);
    }
  }

  // As root the locked slot needs a user that permission bits stop, and that user must be able to run Node.
  const lockable = process.getuid?.() !== 0 || nobodyCanRunRuntime();

  it.skipIf(!lockable)('checks it can write in the slot before the task runs, and says so in one line (not a warning about api_version)', async () => {
    const { code, stderr } = await runLocked('slot');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tsmw-runtime: cannot write in the slot .*slots\/3 \(EACCES: permission denied.*\): the exit files and the task module copy go there; nothing was run$/)]);
    expect(existsSync(outputPath())).toBe(false);
  });

  it.skipIf(!lockable)('checks it can write the output before the task runs', async () => {
    const { code, stderr } = await runLocked('project');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tsmw-runtime: the output "out" cannot be written: its directory .*127\.0\.0\.1_8081_project is not writable \(EACCES: permission denied.*\); nothing was run$/)]);
  });
});