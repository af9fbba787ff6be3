import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// close() must always settle, whatever worker messages are still unread when it starts: a worker
// referenced again by such a message after the pool began to stop it used to let the process end
// before close() settled (exit code 13, the line after `await master.close()` never printed).
// The race depends on timing, so the script runs many times, each in a process of its own.
const script = fileURLToPath(new URL('../test/fixtures/close-under-load.mjs', import.meta.url));
const RUNS = 10;
// A safety net, not a measure: on a loaded machine one run (three masters, six worker starts) can
// take seconds.
const TIMEOUT_MS = 15 * 60_000;
const expectedLines = [
  'closed: a replacement worker had loaded (0 markers)',
  'closed: idle workers restarted (0 markers)',
  'closed: results were waiting (0 markers)',
  'closed: a worker exited with code 1 on every attempt (0 markers)',
  'done',
];
// Where process workers' running markers go (see running-marker.ts).
const markerDirectory = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly markersLeft: string[];
}

function runScript(isolation: string, mode: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, isolation, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const markersLeft = readdirSync(markerDirectory).filter((name) => name.startsWith(`tsmw-local-${child.pid}-`));
      resolve({ code, stdout, stderr, markersLeft });
    });
  });
}

describe('local transport: close() always settles', () => {
  for (const isolation of ['thread', 'process'] as const) {
    for (const mode of ['graceful', 'force'] as const) {
      it(`a process closing masters with worker messages unread (${isolation}, ${mode}) prints after every close and exits with 0, ${RUNS} runs`, async () => {
        const runs: Run[] = [];
        // Two at a time: the machine has two cores, and a busy machine is where the race shows.
        for (let started = 0; started < RUNS; started += 2) runs.push(...(await Promise.all([runScript(isolation, mode), runScript(isolation, mode)])));
        for (const run of runs) {
          expect({ code: run.code, lines: run.stdout.trim().split('\n'), stderr: run.stderr }).toEqual({ code: 0, lines: expectedLines, stderr: '' });
          expect(run.markersLeft).toEqual([]);
        }
      }, TIMEOUT_MS);
    }
  }
});
