// The code blocks of a page in docs/ that its tests check: blocks marked
// `<!-- doc-test: quote PATH -->` must be a run of PATH's lines (PATH from the repository root),
// blocks marked `<!-- doc-test: scenario/name -->` are run by the page's test.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface DocBlocks {
  /** Every fenced block of the page, marked or not. */
  readonly all: readonly string[];
  /** Quoted blocks: the file they quote and the text. */
  readonly quotes: readonly { readonly path: string; readonly text: string }[];
  /** Blocks to run, by "scenario/name". */
  readonly named: ReadonlyMap<string, string>;
}

export async function readDocBlocks(page: string): Promise<DocBlocks> {
  const doc = await readFile(join(repositoryRoot, 'docs', page), 'utf8');
  const all = [...doc.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
  const quotes = [...doc.matchAll(/<!-- doc-test: quote (\S+) -->\n```\w*\n([\s\S]*?)^```$/gm)].map((match) => ({ path: match[1] ?? '', text: match[2] ?? '' }));
  const named = new Map([...doc.matchAll(/<!-- doc-test: ([\w.-]+\/[\w.-]+) -->\n```\w*\n([\s\S]*?)^```$/gm)].map((match) => [match[1] ?? '', match[2] ?? '']));
  return { all, quotes, named };
}

/** Whether `text` is a run of whole lines of the file at `path`. */
export async function isQuoteOf(path: string, text: string): Promise<boolean> {
  const file = await readFile(join(repositoryRoot, path), 'utf8');
  return file.startsWith(text) || file.includes(`\n${text}`);
}
