// The task module of the word-count example (PyMW's string_counter.py, as a MapReduce): workers load this file.
import { defineTask } from '@tsmw/core';

/** Words and how often each occurs, most frequent first (ties in code-point order of the word). */
export type WordCounts = Array<[word: string, count: number]>;

/** The name of the data file each counting task reads. */
export const textFileName = 'text';

/**
 * The words of a text: runs of letters, digits and apostrophes inside words, lower-cased.
 * ("Don't stop" has the words "don't" and "stop".)
 */
export function splitWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu) ?? [];
}

/** Counts the words of the task's data file `text` (UTF-8). The input names the file, for messages. */
export const countWords = defineTask('word-count', async (input: { readonly name: string }, context): Promise<WordCounts> => {
  const bytes = await context.file(textFileName);
  const counts = new Map<string, number>();
  for (const word of splitWords(new TextDecoder('utf-8', { fatal: false }).decode(bytes))) counts.set(word, (counts.get(word) ?? 0) + 1);
  return sortCounts(counts);
});

/** Adds up word counts (the reduce task: associative, so partial sums can be added up again). */
export const mergeCounts = defineTask('word-count-merge', (parts: WordCounts[]): WordCounts => {
  const counts = new Map<string, number>();
  for (const part of parts) for (const [word, count] of part) counts.set(word, (counts.get(word) ?? 0) + count);
  return sortCounts(counts);
});

function sortCounts(counts: Map<string, number>): WordCounts {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
