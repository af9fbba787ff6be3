import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBoincChannel } from './boinc-channel.js';
import type { BoincChannel, ControlMessage } from './boinc-channel.js';
import { createStatusReporter } from './status-reporter.js';
import type { ClientGoneReason } from './status-reporter.js';

let slotDir: string;
let mmapPath: string;
let channel: BoincChannel;

beforeEach(async () => {
  slotDir = await mkdtemp(join(tmpdir(), 'tsmw-slot-'));
  mmapPath = join(slotDir, 'boinc_mmap_file');
  await writeFile(mmapPath, Buffer.alloc(8192));
  channel = createBoincChannel({ slotDir, fractionDoneStart: 0, fractionDoneEnd: 0.5 });
});
afterEach(async () => {
  channel.close();
  await rm(slotDir, { recursive: true, force: true });
});

function clientSends(offset: number, text: string): void {
  const descriptor = openSync(mmapPath, 'r+');
  writeSync(descriptor, Buffer.from(`${text}\0`), 0, text.length + 1, offset + 1);
  writeSync(descriptor, Buffer.from([1]), 0, 1, offset);
  closeSync(descriptor);
}

/** The client takes the status message (clears the flag) and returns its text, or null. */
function clientTakesStatus(): string | null {
  const descriptor = openSync(mmapPath, 'r+');
  try {
    const block = Buffer.alloc(1024);
    readSync(descriptor, block, 0, 1024, 5120);
    if (block[0] === 0) return null;
    writeSync(descriptor, Buffer.from([0]), 0, 1, 5120);
    return block.subarray(1, block.indexOf(0, 1)).toString();
  } finally {
    closeSync(descriptor);
  }
}

describe('createStatusReporter', () => {
  it('sends CPU time, checkpoint CPU time and scaled fraction done each poll, and none while suspended', () => {
    let cpu = 1;
    let clock = 0;
    const messages: ControlMessage[] = [];
    const reporter = createStatusReporter({ channel, initialCpuTime: 100, cpuTime: () => cpu, now: () => clock, onControl: (message) => messages.push(message) });
    clientSends(4096, '<heartbeat/>');
    reporter.poll();
    expect(clientTakesStatus()).toBe(
      '<current_cpu_time>1.010000e+02</current_cpu_time>\n<checkpoint_cpu_time>1.000000e+02</checkpoint_cpu_time>\n<want_network>0</want_network>\n',
    );
    cpu = 3;
    reporter.setFractionDone(0.5);
    reporter.checkpointCompleted();
    clock += 1000;
    reporter.poll();
    expect(clientTakesStatus()).toBe(
      '<current_cpu_time>1.030000e+02</current_cpu_time>\n<checkpoint_cpu_time>1.030000e+02</checkpoint_cpu_time>\n<want_network>0</want_network>\n<fraction_done>2.500000e-01</fraction_done>\n',
    );
    clientSends(0, '<suspend/>');
    clock += 1000;
    reporter.poll();
    expect(reporter.suspended).toBe(true);
    expect(clientTakesStatus()).toBeNull();
    clientSends(0, '<resume/>');
    clock += 1000;
    reporter.poll();
    expect(reporter.suspended).toBe(false);
    expect(clientTakesStatus()).toContain('<fraction_done>');
    expect(messages).toEqual(['suspend', 'resume']);
  });

  it('declares the client gone after 30 s without heartbeat, once, and stops', () => {
    let clock = 0;
    const gone: ClientGoneReason[] = [];
    const reporter = createStatusReporter({ channel, cpuTime: () => 0, now: () => clock, onClientGone: (reason) => gone.push(reason) });
    for (; clock <= 29_000; clock += 1000) {
      if (clock === 10_000) clientSends(4096, '<heartbeat/>');
      reporter.poll();
    }
    clock = 40_001;
    reporter.poll();
    reporter.poll();
    expect(gone).toEqual(['heartbeat-timeout']);
    expect(reporter.clientGone).toBe('heartbeat-timeout');
  });

  it('checks the client pid every 10 s when init_data gives one', () => {
    let clock = 0;
    let alive = true;
    const checked: number[] = [];
    const gone: ClientGoneReason[] = [];
    const reporter = createStatusReporter({
      channel,
      clientPid: 4242,
      cpuTime: () => 0,
      now: () => clock,
      isProcessAlive: (pid) => {
        checked.push(pid);
        return alive;
      },
      onClientGone: (reason) => gone.push(reason),
    });
    for (; clock < 25_000; clock += 1000) {
      clientSends(4096, '<heartbeat/>');
      reporter.poll();
    }
    expect(checked).toEqual([4242, 4242]);
    alive = false;
    for (; clock < 31_000; clock += 1000) {
      clientSends(4096, '<heartbeat/>');
      reporter.poll();
    }
    expect(gone).toEqual(['client-exited']);
  });

  it('knows that its own pid is alive and a finished one is not', async () => {
    const { spawnSync } = await import('node:child_process');
    const finished = spawnSync(process.execPath, ['-e', '0']).pid;
    const gone: ClientGoneReason[] = [];
    let clock = 0;
    for (const [pid, expected] of [
      [process.pid, []],
      [finished, ['client-exited']],
    ] as const) {
      gone.length = 0;
      const reporter = createStatusReporter({ channel, clientPid: pid, cpuTime: () => 0, now: () => clock, pidCheckIntervalMs: 0, onClientGone: (reason) => gone.push(reason) });
      clientSends(4096, '<heartbeat/>');
      reporter.poll();
      clock += 1;
      expect(gone).toEqual(expected);
    }
  });

  it('polls on its own once started, on a timer that does not hold the process', async () => {
    const reporter = createStatusReporter({ channel, intervalMs: 10 });
    reporter.start();
    await new Promise((resolve) => setTimeout(resolve, 60));
    reporter.stop();
    expect(clientTakesStatus()).toContain('<current_cpu_time>');
  });
});

describe('createStatusReporter.sendStatus', () => {
  it('sends the status at once when the client has read the last one, not while suspended', () => {
    let cpu = 2;
    const reporter = createStatusReporter({ channel, cpuTime: () => cpu });
    reporter.setFractionDone(1);
    expect(reporter.sendStatus()).toBe(true);
    expect(reporter.sendStatus()).toBe(false); // unread
    expect(clientTakesStatus()).toContain('<current_cpu_time>2.000000e+00</current_cpu_time>');
    cpu = 3;
    clientSends(0, '<suspend/>');
    reporter.poll();
    expect(reporter.sendStatus()).toBe(false);
    expect(clientTakesStatus()).toBeNull();
  });
});
