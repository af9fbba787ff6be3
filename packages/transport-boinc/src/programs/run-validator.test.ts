import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeResultEnvelope, type ResultEnvelope } from '@tsmw/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runValidatorCompare, runValidatorInit } from './run-validator.js';

let directory: string;
let stderr: string;
const io = { stderr: (text: string) => void (stderr += text) };

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-validator-'));
  stderr = '';
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

let counter = 0;
async function result(output: unknown, overrides: Partial<ResultEnvelope> = {}): Promise<string> {
  const envelope = { kind: 'tsmw-result', version: 1, taskId: 't', attempt: 1, ok: true, output, timing: { startedAt: counter, wallMs: 10 + counter, cpuMs: 5 }, ...overrides } as ResultEnvelope;
  const path = join(directory, `r${counter++}`);
  await writeFile(path, encodeResultEnvelope(envelope));
  return path;
}

describe('tsmw_validate', () => {
  it('accepts a result envelope and refuses anything else', async () => {
    expect(await runValidatorInit([await result({ pi: 3.14 })], io)).toBe(0);
    const junk = join(directory, 'junk');
    await writeFile(junk, '<html>500</html>');
    expect(await runValidatorInit([junk], io)).toBe(1);
    expect(stderr).toContain('is not a tsmw result envelope');
    expect(await runValidatorInit([join(directory, 'absent')], io)).toBe(1);
    expect(await runValidatorInit(['--max-bytes', '4', await result('x'.repeat(100))], io)).toBe(1);
    expect(await runValidatorInit([], io)).toBe(3);
  });
});

describe('tsmw_compare', () => {
  it('matches equal outputs whatever the timing, host and console', async () => {
    const left = await result({ hits: 785, darts: new Uint8Array([1, 2]) });
    const right = await result({ darts: new Uint8Array([1, 2]), hits: 785 }, { console: [{ stream: 'stdout', text: 'hi' }] } as Partial<ResultEnvelope>);
    expect(await runValidatorCompare([left, right], io)).toBe(0);
  });

  it('refuses different outputs, and one failure against one success', async () => {
    expect(await runValidatorCompare([await result({ hits: 785 }), await result({ hits: 786 })], io)).toBe(1);
    const failed = await result(undefined, { ok: false, error: { name: 'Error', message: 'boom' } } as Partial<ResultEnvelope>);
    expect(await runValidatorCompare([await result(1), failed], io)).toBe(1);
    const failedToo = await result(undefined, { ok: false, error: { name: 'Error', message: 'boom' } } as Partial<ResultEnvelope>);
    expect(await runValidatorCompare([failed, failedToo], io)).toBe(0);
  });

  it('says an unreadable result is invalid and a misuse transient', async () => {
    const junk = join(directory, 'junk');
    await writeFile(junk, Buffer.from([0xc1, 0xc1]));
    expect(await runValidatorCompare([await result(1), junk], io)).toBe(1);
    expect(await runValidatorCompare([await result(1)], io)).toBe(3);
  });
});
