import { describe, expect, it } from 'vitest';
import { inheritedExecArgv } from './worker-channel.js';
import { workerEntryUrl } from './worker-entry-url.js';

describe('inheritedExecArgv', () => {
  it('drops the @tsmw/source condition in both spellings and keeps everything else', () => {
    expect(inheritedExecArgv(['--conditions', '@tsmw/source', '--conditions', 'node', '-C', '@tsmw/source', '--conditions=@tsmw/source', '--import', 'tsx'])).toEqual([
      '--conditions',
      'node',
      '--import',
      'tsx',
    ]);
    expect(inheritedExecArgv(['--enable-source-maps'])).toEqual(['--enable-source-maps']);
  });
});

describe('workerEntryUrl', () => {
  it('finds the built worker entries from the source (tests) as from dist (users)', () => {
    expect(workerEntryUrl('thread-worker').pathname).toMatch(/\/transport-local\/dist\/thread-worker\.js$/);
    expect(workerEntryUrl('process-worker').pathname).toMatch(/\/transport-local\/dist\/process-worker\.js$/);
  });
});
