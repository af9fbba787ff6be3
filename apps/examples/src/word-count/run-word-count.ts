import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { showProgress } from '../shared/progress-display.js';
import { startExampleMaster, wholeNumber } from '../shared/start-example-master.js';
import type { TransportSettings } from '../shared/transport-options.js';
import { UsageError } from '../shared/usage-error.js';
import { countWords, mergeCounts, textFileName, type WordCounts } from './tasks.js';

export interface WordCountOptions extends TransportSettings {
  /** The directory whose files are counted (absolute, or relative to the working directory). */
  readonly directory: string;
  /** Count the files of subdirectories too. */
  readonly recursive: boolean;
  /** How many reduce tasks add up the per-file counts before the last one (PyMW's red_worker). */
  readonly reducers: number;
  /** How many of the most frequent words the report lists; 0 for all. */
  readonly top: number;
  readonly progress: boolean;
}

export interface WordCountReport {
  readonly directory: string;
  readonly files: number;
  /** All words, counted with repeats. */
  readonly words: number;
  /** Different words. */
  readonly distinct: number;
  /** The most frequent words (all of them when `top` is 0), most frequent first. */
  readonly top: WordCounts;
  readonly tasks: number;
  readonly seconds: number;
  readonly transport: string;
  readonly workers: number | null;
  readonly batch: string | null;
}

/** The regular files of a directory, sorted, skipping hidden ones. */
export async function listTextFiles(directory: string, recursive: boolean): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true, recursive });
  } catch (error) {
    throw new UsageError(`Cannot read the directory ${directory}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(entry.parentPath ?? directory, entry.name);
    if (relative(directory, path).split(/[\\/]/).some((part) => part.startsWith('.'))) continue;
    if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile() === true)) files.push(path);
  }
  return files.sort();
}

/**
 * Counts the words of every file in a directory as a MapReduce (PyMW's string_counter.py with
 * PyMW_MapReduce): one counting task per file, which reads the file as its data file (on BOINC
 * it travels to the volunteer with the task), then `reducers` tasks that add up the counts,
 * then one that adds up their sums.
 */
export async function runWordCount(options: WordCountOptions): Promise<WordCountReport> {
  const reducers = wholeNumber(options.reducers, '--reducers', 1);
  const top = wholeNumber(options.top, '--top', 0);
  const files = await listTextFiles(options.directory, options.recursive);
  if (files.length === 0) throw new UsageError(`The directory ${options.directory} has no files to count`);
  const parts = Math.min(reducers, files.length);
  const tasks = files.length + (parts > 1 ? parts + 1 : 1);
  const started = performance.now();
  const { master, workers } = await startExampleMaster(options, new URL('./word-count/tasks.js', import.meta.url));
  let total: WordCounts;
  try {
    const stopProgress = showProgress(master, tasks, options.progress);
    try {
      // Map: `map` and `mapReduce` give every input the same options, so each file is
      // submitted on its own, with its path as its data file (read where the task runs).
      const counted = await Promise.all(
        files.map(async (path, index) => {
          const name = relative(options.directory, path);
          const handle = await master.submit(countWords, { name }, { files: { [textFileName]: path }, key: `file-${index}` });
          return handle.result;
        }),
      );
      // Reduce, as mapReduce does: `parts` partial sums in parallel, then their sum.
      const size = Math.ceil(counted.length / parts);
      const chunks = Array.from({ length: parts }, (_, index) => counted.slice(index * size, (index + 1) * size));
      const partials = await master.map(mergeCounts, chunks);
      total = partials.length === 1 ? partials[0]! : (await master.map(mergeCounts, [partials]))[0]!;
    } finally {
      stopProgress();
    }
  } finally {
    await master.close();
  }
  return {
    directory: options.directory,
    files: files.length,
    words: total.reduce((sum, [, count]) => sum + count, 0),
    distinct: total.length,
    top: top === 0 ? total : total.slice(0, top),
    tasks,
    seconds: (performance.now() - started) / 1000,
    transport: master.transportId,
    workers: workers ?? null,
    batch: master.batch ?? null,
  };
}
