// docs/from-pymw.md: the monte-pi task it shows is the example's own (quoted), and the genetic
// algorithm, a complete task module and master, runs as written in a package of its own.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isQuoteOf, readDocBlocks } from '../test/doc-blocks.js';

describe('docs/from-pymw.md', () => {
  it('every code block is a quote of a tested file or a program this test runs', async () => {
    const blocks = await readDocBlocks('from-pymw.md');
    expect([...blocks.quotes.map((quote) => quote.text), ...blocks.named.values()].sort()).toEqual([...blocks.all].sort());
    expect(blocks.quotes.map((quote) => quote.path)).toEqual(['apps/examples/src/monte-pi/tasks.ts']);
    for (const quote of blocks.quotes) expect(await isQuoteOf(quote.path, quote.text), `the doc's quote of ${quote.path}`).toBe(true);
  });

  it('the genetic algorithm runs as written: the best fitness never falls and ends above where it began', async () => {
    const blocks = await readDocBlocks('from-pymw.md');
    // Inside apps/examples, so that the imports resolve as in a user's package.
    const folder = await mkdtemp(join(fileURLToPath(new URL('../test/', import.meta.url)), '.tmp-from-pymw-'));
    try {
      await writeFile(join(folder, 'package.json'), '{ "type": "module" }\n');
      for (const name of ['tasks.js', 'master.js']) {
        const block = blocks.named.get(`genetic-algorithm/${name}`);
        if (block === undefined) throw new Error(`docs/from-pymw.md has no block marked genetic-algorithm/${name}`);
        await writeFile(join(folder, name), block);
      }
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['master.js'], { cwd: folder }, (error, out, stderr) => (error === null ? resolve(out) : reject(new Error(`${error.message}\n${stderr}`))));
      });
      const lines = stdout.trimEnd().split('\n');
      expect(lines.map((line) => line.replace(/best \d+/, 'best N'))).toEqual([0, 10, 20, 30].map((generation) => `generation ${generation}: best N of 32`));
      const best = lines.map((line) => Number(/best (\d+)/.exec(line)?.[1]));
      for (const [index, value] of best.entries()) if (index > 0) expect(value).toBeGreaterThanOrEqual(best[index - 1]!);
      expect(best.at(-1)).toBeGreaterThan(best[0]!);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
