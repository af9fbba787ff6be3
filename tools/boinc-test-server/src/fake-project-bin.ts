// The entry point of the fake project's programs (`bin/create_work`, `bin/xadd`, ...): each is a
// small script that imports this module and calls `runFakeProjectProgram(NAME, PROJECT_DIR)`.
// Test tooling only.
import { appendFileSync, mkdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BoincTestServerError } from './boinc-test-server-error.js';
import { ProgramExit, startCreateWork } from './fake-project/create-work.js';
import type { CommandIo } from './fake-project/create-work.js';
import { runDirHierPath, runStageFile, runStartStop, runUpdateVersions, runXadd } from './fake-project/project-commands.js';

export const fakeProjectPrograms = ['create_work', 'xadd', 'update_versions', 'start', 'stop', 'status', 'stage_file', 'dir_hier_path'] as const;
export type FakeProjectProgram = (typeof fakeProjectPrograms)[number];

/** One program call as the fake project records it in `db/calls.jsonl` (a start line, then an end line). */
export interface FakeProjectCall {
  readonly program: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly pid: number;
  readonly startedAt: number;
  /** Present on the end line. */
  readonly exitCode?: number;
  readonly endedAt?: number;
}

function record(projectDirectory: string, call: FakeProjectCall): void {
  mkdirSync(join(projectDirectory, 'db'), { recursive: true });
  appendFileSync(join(projectDirectory, 'db', 'calls.jsonl'), `${JSON.stringify(call)}\n`);
}

/** PHP's `fgets(STDIN)`: one line, '' at end of input. */
function readLineFromStdin(): string {
  const buffer = Buffer.alloc(1);
  let line = '';
  for (;;) {
    let count = 0;
    try {
      count = readSync(0, buffer, 0, 1, null);
    } catch {
      return line;
    }
    if (count === 0) return line;
    const character = buffer.toString('latin1');
    if (character === '\n') return line;
    line += character;
  }
}

export async function runFakeProjectProgram(program: FakeProjectProgram, projectDirectory: string): Promise<void> {
  const argv = process.argv.slice(2);
  const startedAt = Date.now();
  const base = { program, argv, cwd: process.cwd(), pid: process.pid, startedAt };
  record(projectDirectory, base);
  const io: CommandIo = {
    cwd: process.cwd(),
    env: process.env,
    pid: process.pid,
    stdout: (text) => void writeSync(1, text),
    stderr: (text) => void writeSync(2, text),
  };
  const finish = (exitCode: number): never => {
    record(projectDirectory, { ...base, exitCode, endedAt: Date.now() });
    process.exit(exitCode);
  };
  try {
    switch (program) {
      case 'create_work': {
        const run = startCreateWork(argv, io);
        if (run.usesStdin) {
          let pending: Buffer = Buffer.alloc(0);
          for await (const chunk of process.stdin) {
            pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
            let start = 0;
            for (;;) {
              const newline = pending.indexOf(0x0a, start);
              if (newline === -1) break;
              run.line(pending.subarray(start, newline + 1));
              start = newline + 1;
            }
            pending = pending.subarray(start);
          }
          if (pending.length > 0) run.line(pending);
          run.end();
        }
        break;
      }
      case 'xadd':
        runXadd(argv, io);
        break;
      case 'update_versions':
        runUpdateVersions(argv, io, readLineFromStdin);
        break;
      case 'start':
      case 'stop':
      case 'status':
        runStartStop(program, argv, io);
        break;
      case 'stage_file':
        runStageFile(argv, io);
        break;
      case 'dir_hier_path':
        runDirHierPath(argv, io);
        break;
    }
  } catch (error) {
    if (error instanceof ProgramExit) finish(error.status);
    io.stderr(`${program}: ${BoincTestServerError.isInstance(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    finish(1);
  }
  finish(0);
}

export function readCalls(projectDirectory: string): FakeProjectCall[] {
  try {
    return readFileSync(join(projectDirectory, 'db', 'calls.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as FakeProjectCall);
  } catch {
    return [];
  }
}
