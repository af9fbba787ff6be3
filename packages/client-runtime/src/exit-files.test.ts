import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatFinishCalled, formatTemporaryExit, writeFinishCalled, writeTemporaryExit } from './exit-files.js';

let slotDir: string;
beforeEach(async () => {
  slotDir = await mkdtemp(join(tmpdir(), 'tsmw-slot-'));
});
afterEach(async () => {
  await rm(slotDir, { recursive: true, force: true });
});

describe('boinc_finish_called', () => {
  it('holds the status, then an optional message and notice', async () => {
    writeFinishCalled(slotDir, { status: 0 });
    expect(await readFile(join(slotDir, 'boinc_finish_called'), 'utf8')).toBe('0\n');
    expect(await readdir(slotDir)).toEqual(['boinc_finish_called']);
    expect(formatFinishCalled({ status: 1, message: 'bad\ninput' })).toBe('1\nbad input\n\n');
    expect(formatFinishCalled({ status: 0, message: 'done', notice: true })).toBe('0\ndone\nnotice\n');
    expect(() => formatFinishCalled({ status: 0.5 })).toThrow(/integer/);
  });
});

describe('boinc_temporary_exit', () => {
  it('holds the delay clamped into 0..86400, the required reason and an optional notice', async () => {
    writeTemporaryExit(slotDir, { delaySeconds: 60, reason: 'GPU busy' });
    expect(await readFile(join(slotDir, 'boinc_temporary_exit'), 'utf8')).toBe('60\nGPU busy\n');
    expect(formatTemporaryExit({ delaySeconds: 100_000, reason: 'r', notice: true })).toBe('86400\nr\nnotice\n');
    expect(formatTemporaryExit({ delaySeconds: -5, reason: 'r' })).toBe('0\nr\n');
    expect(formatTemporaryExit({ delaySeconds: 1.6, reason: 'two\nlines' })).toBe('2\ntwo lines\n');
    expect(() => formatTemporaryExit({ delaySeconds: 1, reason: ' \n' })).toThrow(expect.objectContaining({ code: 'TSMW_BOINC_EXIT_FILE_INVALID' }));
  });
});
