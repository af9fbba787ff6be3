import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { createBoincChannel, formatScientific, formatStatusMessage } from './boinc-channel.js';
import type { BoincChannel } from './boinc-channel.js';
import { ClientRuntimeError } from './client-runtime-error.js';

let slotDir: string;
let mmapPath: string;
let channel: BoincChannel | undefined;

beforeEach(async () => {
  slotDir = await mkdtemp(join(tmpdir(), 'tsmw-slot-'));
  mmapPath = join(slotDir, 'boinc_mmap_file');
  await writeFile(mmapPath, Buffer.alloc(8192));
});
afterEach(async () => {
  channel?.close();
  channel = undefined;
  await rm(slotDir, { recursive: true, force: true });
});

/** The test plays the client: write the text, then set the flag, as the client does in its mapping. */
function clientSends(offset: number, text: string): void {
  const descriptor = openSync(mmapPath, 'r+');
  try {
    writeSync(descriptor, Buffer.from(`${text}\0`), 0, text.length + 1, offset + 1);
    writeSync(descriptor, Buffer.from([1]), 0, 1, offset);
  } finally {
    closeSync(descriptor);
  }
}

/** Reads a channel as the client would: [flag, text up to the NUL]. */
function clientReads(offset: number): [number, string] {
  const descriptor = openSync(mmapPath, 'r');
  try {
    const block = Buffer.alloc(1024);
    readSync(descriptor, block, 0, 1024, offset);
    const end = block.indexOf(0, 1);
    return [block[0] ?? 0, block.subarray(1, end).toString()];
  } finally {
    closeSync(descriptor);
  }
}

describe('createBoincChannel', () => {
  it('reads a <suspend/> the client left with the flag set, and consumes it', () => {
    channel = createBoincChannel({ slotDir });
    expect(channel.readControl()).toBeNull();
    clientSends(0, '<suspend/>');
    expect(channel.readControl()).toBe('suspend');
    expect(clientReads(0)[0]).toBe(0);
    expect(channel.readControl()).toBeNull();
    for (const [text, message] of [
      ['<resume/>', 'resume'],
      ['<quit/>', 'quit'],
      ['<abort/>', 'abort'],
      ['<reread_app_info/>', 'reread_app_info'],
      ['<something_new/>', null],
    ] as const) {
      clientSends(0, text);
      expect(channel.readControl()).toBe(message);
      expect(clientReads(0)[0]).toBe(0);
    }
  });

  it('reads the file exactly as the real client 7.20.5 left it after boinccmd --task suspend', async () => {
    await writeFile(mmapPath, readFixture('boinc_mmap_file_suspended.bin'));
    channel = createBoincChannel({ slotDir });
    expect(channel.readHeartbeat()).toBe(true);
    expect(channel.readHeartbeat()).toBe(false);
    expect(channel.readControl()).toBe('suspend');
  });

  it('consumes heartbeats', () => {
    channel = createBoincChannel({ slotDir });
    expect(channel.readHeartbeat()).toBe(false);
    clientSends(4096, '<heartbeat/><wss>0.000000e+00</wss><max_wss>2.274842e+10</max_wss>');
    expect(channel.readHeartbeat()).toBe(true);
    expect(clientReads(4096)[0]).toBe(0);
  });

  it('sends status only when the client has read the last one, scaled into fraction_done_start..end', () => {
    channel = createBoincChannel({ slotDir, fractionDoneStart: 0.5, fractionDoneEnd: 1 });
    expect(channel.sendStatus({ currentCpuTime: 12.5, checkpointCpuTime: 10, fractionDone: 0.5 })).toBe(true);
    expect(clientReads(5120)).toEqual([
      1,
      '<current_cpu_time>1.250000e+01</current_cpu_time>\n' +
        '<checkpoint_cpu_time>1.000000e+01</checkpoint_cpu_time>\n' +
        '<want_network>0</want_network>\n' +
        '<fraction_done>7.500000e-01</fraction_done>\n',
    ]);
    // The client has not read it yet: nothing is overwritten.
    expect(channel.sendStatus({ currentCpuTime: 13, checkpointCpuTime: 10 })).toBe(false);
    expect(clientReads(5120)[1]).toContain('1.250000e+01');
    // The client reads it (clears the flag); the next one goes out, without fraction_done while unknown.
    const descriptor = openSync(mmapPath, 'r+');
    writeSync(descriptor, Buffer.from([0]), 0, 1, 5120);
    closeSync(descriptor);
    expect(channel.sendStatus({ currentCpuTime: 13, checkpointCpuTime: 10 })).toBe(true);
    expect(clientReads(5120)[1]).toBe('<current_cpu_time>1.300000e+01</current_cpu_time>\n<checkpoint_cpu_time>1.000000e+01</checkpoint_cpu_time>\n<want_network>0</want_network>\n');
  });

  it('leaves the other channels alone and refuses messages longer than a channel holds', () => {
    channel = createBoincChannel({ slotDir });
    expect(channel.send('trickleUp', 'x')).toBe(true);
    for (const offset of [0, 1024, 2048, 3072, 4096, 5120, 7168]) expect(clientReads(offset)).toEqual([0, '']);
    expect(clientReads(6144)).toEqual([1, 'x']);
    expect(() => channel?.send('graphicsReply', 'y'.repeat(1023))).toThrow(RangeError);
  });

  it('fails typed when the client shares no channel file (no api_version) or a short one', async () => {
    await rm(mmapPath);
    const missing = (() => {
      try {
        return createBoincChannel({ slotDir });
      } catch (error) {
        return error;
      }
    })();
    expect(ClientRuntimeError.isInstance(missing) && missing.code).toBe('TSMW_BOINC_CHANNEL_UNAVAILABLE');
    expect((missing as Error).message).toContain('<api_version>');
    await writeFile(mmapPath, Buffer.alloc(100));
    expect(() => createBoincChannel({ slotDir })).toThrow(/fewer than the 8192/);
  });

  it('says the real cause when the file is there but cannot be opened, without blaming api_version', async () => {
    await rm(mmapPath);
    await mkdir(mmapPath);
    let caught: unknown;
    try {
      createBoincChannel({ slotDir });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'TSMW_BOINC_CHANNEL_UNAVAILABLE', message: expect.stringMatching(/for reading and writing: EISDIR: /) });
    expect((caught as Error).message).not.toContain('api_version');
  });

  it('refuses use after close', () => {
    channel = createBoincChannel({ slotDir });
    channel.close();
    expect(() => channel?.readControl()).toThrow(ClientRuntimeError);
  });
});

describe('formatScientific', () => {
  it('prints like C %e', () => {
    expect(formatScientific(0)).toBe('0.000000e+00');
    expect(formatScientific(1)).toBe('1.000000e+00');
    expect(formatScientific(0.000123)).toBe('1.230000e-04');
    expect(formatScientific(22748420000)).toBe('2.274842e+10');
    expect(formatScientific(-2.5)).toBe('-2.500000e+00');
    expect(formatScientific(1e150)).toBe('1.000000e+150');
    expect(formatScientific(Number.NaN)).toBe('0.000000e+00');
  });

  it('formats a status message with each element on its own line', () => {
    expect(formatStatusMessage({ currentCpuTime: -1, checkpointCpuTime: 0, fractionDone: 2 })).toBe(
      '<current_cpu_time>0.000000e+00</current_cpu_time>\n<checkpoint_cpu_time>0.000000e+00</checkpoint_cpu_time>\n<want_network>0</want_network>\n<fraction_done>1.000000e+00</fraction_done>\n',
    );
  });
});
