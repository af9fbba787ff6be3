import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { countFileTransportWork } from '@tsmw/core/testing';

// docs/batches.md's "Try it", run as written: stopped half-way with SIGINT (Ctrl-C), then again.
const doc = readFileSync(fileURLToPath(new URL('../../../../docs/batches.md', import.meta.url)), 'utf8');
const codeBlock = (firstLine: string): string => {
  const block = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!).find((code) => code.startsWith(firstLine));
  if (block === undefined) throw new Error(`docs/batches.md has no js block starting with ${firstLine}`);
  return block;
};
// Inside the package, so that the files resolve @tsmw/core as they would in a user's folder.
const folder = mkdtempSync(join(fileURLToPath(new URL('../../test/', import.meta.url)), '.tmp-batches-doc-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function run(stopAfter?: number): Promise<{ stdout: string; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['squares.mjs'], { cwd: folder, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stopAfter !== undefined && stdout.includes(`done ${stopAfter}\n`)) child.kill('SIGINT');
    });
    child.on('exit', (code, signal) => resolve({ stdout, code, signal }));
  });
}

describe('docs/batches.md', () => {
  it('a master stopped half-way and run again with the same batch finishes the work once', async () => {
    writeFileSync(join(folder, 'tasks.mjs'), codeBlock('// tasks.mjs'));
    writeFileSync(join(folder, 'squares.mjs'), codeBlock('// squares.mjs'));
    const first = await run(10);
    expect(first.signal).toBe('SIGINT');
    expect(first.stdout).toContain('recovered from an earlier run: 0');
    expect(first.stdout).not.toContain('sum of squares');
    const second = await run();
    expect(second.code).toBe(0);
    const recovered = Number(/recovered from an earlier run: (\d+)/.exec(second.stdout)?.[1]);
    expect(recovered).toBeGreaterThan(0);
    expect(second.stdout).toContain('sum of squares: 20540');
    const work = await countFileTransportWork({ directory: join(folder, 'batches'), batch: 'squares-1' });
    expect(work.size).toBe(40);
    expect([...work.values()].every((times) => times === 1)).toBe(true);
  }, 120_000);
});
