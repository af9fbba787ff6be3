import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { countFileTransportWork, createFileTransport, describeTransportConformance, runFileTransportTasks } from '@tsmw/core/testing';

const directory = mkdtempSync(join(tmpdir(), 'tsmw-file-transport-'));
// The kill test's child process makes its transport from this (see the fixture module).
process.env['TSMW_FILE_TRANSPORT_DIRECTORY'] = directory;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeTransportConformance('file transport (durable reference)', () => createFileTransport({ directory }), {
  scaleTasks: 2000,
  durable: {
    transportModule: new URL('../../test/fixtures/file-transport-module.mjs', import.meta.url),
    runWaitingTasks: async (batch) => {
      await runFileTransportTasks({ directory, batch });
    },
    countWork: (batch) => countFileTransportWork({ directory, batch }),
  },
});
