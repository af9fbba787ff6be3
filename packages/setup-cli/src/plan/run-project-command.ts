import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ProjectCommandError } from '../errors/project-command-error.js';

export interface ProjectCommandResult {
  readonly program: string;
  readonly args: readonly string[];
  readonly exitCode: number;
  readonly output: string;
}

const maxKeptOutput = 64 * 1024;

/**
 * Runs a project program (`bin/xadd`, `bin/update_versions --noconfirm`, `bin/stop`,
 * `bin/start`) from the project directory, as BOINC's tools expect, with no standard input.
 * Resolves on the program's exit (`bin/start` leaves daemons behind that may hold its output
 * open); a non-zero exit is a `ProjectCommandError` naming the command and its last line.
 */
export function runProjectCommand(projectHome: string, program: string, args: readonly string[]): Promise<ProjectCommandResult> {
  return new Promise((resolvePromise, reject) => {
    let output = '';
    const keep = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > maxKeptOutput) output = output.slice(-maxKeptOutput);
    };
    const child = spawn(join(projectHome, program), [...args], { cwd: projectHome, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => {
      reject(new ProjectCommandError(`${program} could not be started: ${error.message}`, { cause: error }));
    });
    child.on('exit', (code, signal) => {
      child.stdout.destroy();
      child.stderr.destroy();
      const exitCode = code ?? 128;
      if (code === 0) {
        resolvePromise({ program, args, exitCode, output });
        return;
      }
      const lastLine = output
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '')
        .at(-1);
      const how = signal === null ? `exit ${exitCode}` : `signal ${signal}`;
      reject(new ProjectCommandError(`${[program, ...args].join(' ')} failed (${how})${lastLine === undefined ? '' : `: ${lastLine}`}`));
    });
  });
}
