import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliJson } from '../../test/run-cli.js';
import { listTextFiles, type WordCountReport } from './run-word-count.js';
import { splitWords } from './tasks.js';

/** Counts words directly in this process, without tasks: what the MapReduce must agree with. */
async function countDirectly(paths: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const path of paths) for (const word of splitWords(await readFile(path, 'utf8'))) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

const vocabulary = ['tsmw', 'master', 'worker', 'task', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'Straße', 'naïve', 'don’t', "it's", '42', 'BOINC'];

describe('word-count', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tsmw-word-count-'));
    await writeFile(join(directory, 'small.txt'), 'The cat saw the other cat. THE END: "the" cat\'s tale!\n');
    // Deterministic pseudo-random texts: words a plain object would get wrong (constructor, toString).
    let state = 12345;
    const next = (): number => (state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0);
    for (let file = 0; file < 12; file += 1) {
      const words = Array.from({ length: 500 + file * 37 }, () => vocabulary[next() % vocabulary.length]);
      await writeFile(join(directory, `text-${file}.md`), words.join(next() % 2 === 0 ? ' ' : ',\n'));
    }
    await writeFile(join(directory, 'empty.txt'), '');
    await writeFile(join(directory, '.hidden.txt'), 'hidden hidden hidden');
    await mkdir(join(directory, 'nested'));
    await writeFile(join(directory, 'nested', 'deeper.txt'), 'nested words, nested here');
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('splitWords lower-cases and keeps apostrophes inside words', () => {
    expect(splitWords('The cat saw the other cat. THE END: "the" cat\'s tale!')).toEqual(['the', 'cat', 'saw', 'the', 'other', 'cat', 'the', 'end', 'the', "cat's", 'tale']);
    expect(splitWords('Straße naïve don’t 3.14 --')).toEqual(['straße', 'naïve', 'don’t', '3', '14']);
  });

  it('the CLI counts every word of every file like a direct count (MapReduce on the local transport)', async () => {
    const report = await runCliJson<WordCountReport>(['word-count', directory, '--top', '0', '--reducers', '3', '-n', '2']);
    const files = await listTextFiles(directory, false);
    expect(files.map((path) => path.slice(directory.length + 1))).toEqual(['empty.txt', 'small.txt', ...Array.from({ length: 12 }, (_, index) => `text-${index}.md`).sort()]);
    const direct = await countDirectly(files);
    expect(new Map(report.top)).toEqual(direct);
    expect(report).toMatchObject({ files: 14, distinct: direct.size, tasks: 14 + 3 + 1, workers: 2, transport: 'tsmw.local' });
    expect(report.words).toBe([...direct.values()].reduce((sum, count) => sum + count, 0));
    expect(new Map(report.top).get('the')).toBe(4);
    expect(new Map(report.top).get('constructor')).toBe(direct.get('constructor'));
    expect(new Map(report.top).has('hidden')).toBe(false);
    // Most frequent first.
    for (let index = 1; index < report.top.length; index += 1) expect(report.top[index - 1]![1]).toBeGreaterThanOrEqual(report.top[index]![1]);
  });

  it('counts subfolders with --recursive, and lists the top words', async () => {
    const report = await runCliJson<WordCountReport>(['word-count', directory, '-R', '--top', '3', '--reducers', '1', '-n', '1']);
    const direct = await countDirectly(await listTextFiles(directory, true));
    expect(report.files).toBe(15);
    expect(direct.get('nested')).toBe(2);
    expect(report.top).toHaveLength(3);
    expect(report.distinct).toBe(direct.size);
    const highest = Math.max(...direct.values());
    expect(report.top[0]![1]).toBe(highest);
    expect(report.tasks).toBe(15 + 1);
  });

  it('refuses a directory that does not exist with exit code 2', async () => {
    const run = await runCli(['word-count', join(directory, 'missing')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('missing');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
