import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointFile } from './checkpoint-file.js';

let slotDir: string;
beforeEach(async () => {
  slotDir = await mkdtemp(join(tmpdir(), 'tsmw-slot-'));
});
afterEach(async () => {
  await rm(slotDir, { recursive: true, force: true });
});

describe('createCheckpointFile', () => {
  it('reads nothing on a first run, then exactly the bytes last written', async () => {
    const checkpoint = createCheckpointFile({ slotDir });
    expect(checkpoint.path).toBe(join(slotDir, 'tsmw_checkpoint'));
    expect(await checkpoint.read()).toBeUndefined();
    const state = new Uint8Array([0, 255, 1, 2, 3, 0x0a, 0x0d]);
    await checkpoint.write(state);
    expect(await checkpoint.read()).toEqual(state);
    await checkpoint.write(new Uint8Array([9]));
    // A new instance (a restarted task) sees the same state.
    expect(await createCheckpointFile({ slotDir }).read()).toEqual(new Uint8Array([9]));
    expect(await readdir(slotDir)).toEqual(['tsmw_checkpoint']);
    await checkpoint.remove();
    expect(await checkpoint.read()).toBeUndefined();
    await checkpoint.remove();
  });

  it('leaves no temporary file behind when the replacement fails', async () => {
    // A directory where the checkpoint should be: the rename fails after the data was written.
    await mkdir(join(slotDir, 'state.bin', 'inner'), { recursive: true });
    const checkpoint = createCheckpointFile({ slotDir, fileName: 'state.bin' });
    await expect(checkpoint.write(new Uint8Array([3]))).rejects.toThrow();
    expect(await readdir(slotDir)).toEqual(['state.bin']);
  });
});
