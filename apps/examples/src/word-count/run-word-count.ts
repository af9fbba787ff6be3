import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { detachedReport, type DetachedReport } from '../shared/detached-report.js';
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

/** Floating-point operations per byte of text, roughly (splitting words, counting them): BOINC's rsc_fpops_est of the largest file's task. */
const fpopsPerByte = 200;

/** Each file's path below the directory and the sha256 of its contents. */
async function hashFiles(directory: string, files: readonly string[]): Promise<Array<[path: string, sha256: string]>> {
  return Promise.all(files.map(async (path) => [relative(directory, path), createHash('sha256').update(await readFile(path)).digest('hex')] as [string, string]));
}

/**
 * Counts the words of every file in a directory as a MapReduce (PyMW's string_counter.py with
 * PyMW_MapReduce): one counting task per file, which reads the file as its data file (on BOINC
 * it travels to the volunteer with the task), then `reducers` tasks that add up the counts,
 * then one that adds up their sums.
 */
export async function runWordCount(options: WordCountOptions): Promise<WordCountReport | DetachedReport> {
  const reducers = wholeNumber(options.reducers, '--reducers', 1);
  const top = wholeNumber(options.top, '--top', 0);
  const files = await listTextFiles(options.directory, options.recursive);
  if (files.length === 0) throw new UsageError(`The directory ${options.directory} has no files to count`);
  const parts = Math.min(reducers, files.length);
  const tasks = files.length + (parts > 1 ? parts + 1 : 1);
  const started = performance.now();
  // On BOINC the batch stands for these files as they are now: their contents are part of the
  // default batch name, so an edited file is counted again in a batch of its own.
  const contents = options.transport === 'boinc' ? await hashFiles(options.directory, files) : [];
  const largest = options.transport === 'boinc' ? Math.max(...(await Promise.all(files.map(async (path) => (await stat(path)).size)))) : 0;
  const example = await startExampleMaster(options, new URL('./word-count/tasks.js', import.meta.url), {
    example: 'word-count',
    work: { directory: options.directory, files: contents, reducers: parts },
    fpopsPerTask: Math.max(1e6, largest * fpopsPerByte),
  });
  const { master, workers } = example;
  let total: WordCounts;
  try {
    const stopProgress = showProgress(example, tasks, options.progress);
    try {
      // Map: `map` and `mapReduce` give every input the same options, so each file is
      // submitted on its own, with its path as its data file (read where the task runs).
      const handles = await Promise.all(
        files.map((path, index) => master.submit(countWords, { name: relative(options.directory, path) }, { files: { [textFileName]: path }, key: `file-${index}` })),
      );
      if (example.detach) {
        // The counts must be in before the reduce tasks can be submitted: a later run does that.
        await master.detach();
        return detachedReport(example, files.length);
      }
      const counted = await Promise.all(handles.map((handle) => handle.result));
      // Reduce, as mapReduce does: `parts` partial sums in parallel, then their sum.
      const size = Math.ceil(counted.length / parts);
      const chunks = Array.from({ length: parts }, (_, index) => counted.slice(index * size, (index + 1) * size));
      const partials = await master.map(mergeCounts, chunks, { keyPrefix: 'reduce-' });
      total = partials.length === 1 ? partials[0]! : (await master.map(mergeCounts, [partials], { keyPrefix: 'total-' }))[0]!;
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
