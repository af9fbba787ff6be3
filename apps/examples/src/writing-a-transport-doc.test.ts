// docs/writing-a-transport.md shows a real transport: every code block quotes a file that is
// built and tested (the example transport, which passes the conformance suite in
// single-thread-transport.test.ts, and core's file transport test); this checks that the quotes
// are still the files' lines, and that the page has no other code.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQuoteOf, readDocBlocks, repositoryRoot } from '../test/doc-blocks.js';

describe('docs/writing-a-transport.md', () => {
  it('every code block is a quote of a tested file, as it is now', async () => {
    const blocks = await readDocBlocks('writing-a-transport.md');
    expect(blocks.quotes.length).toBeGreaterThanOrEqual(4);
    expect(blocks.quotes.map((quote) => quote.text)).toEqual(blocks.all);
    for (const quote of blocks.quotes) expect(await isQuoteOf(quote.path, quote.text), `the doc's quote of ${quote.path}`).toBe(true);
    // The transport's object, the worker and the conformance test, each named where it is quoted.
    const quoted = new Set(blocks.quotes.map((quote) => quote.path));
    for (const path of ['create-single-thread-transport.ts', 'single-thread-worker.ts', 'single-thread-transport.test.ts']) expect(quoted).toContain(`apps/examples/src/transport-plugin/${path}`);
  });

  it('says how long the example transport is', async () => {
    const doc = await readFile(join(repositoryRoot, 'docs', 'writing-a-transport.md'), 'utf8');
    const file = await readFile(join(repositoryRoot, 'apps/examples/src/transport-plugin/create-single-thread-transport.ts'), 'utf8');
    expect(doc).toContain(`(\`create-single-thread-transport.ts\`, ${file.trimEnd().split('\n').length} lines,`);
  });
});
