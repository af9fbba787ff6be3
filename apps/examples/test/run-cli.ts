// Runs the built examples CLI (dist/cli.js) as a user would, and hands back what it printed.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli.js ...args`; never rejects: a failing run comes back with its exit code. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { cwd: options.cwd, env: options.env ?? withoutInitCwd(process.env), maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI and parses the one JSON object it prints; fails with what it printed otherwise. */
export async function runCliJson<Report>(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Report> {
  const run = await runCli([...args, '--json'], options);
  if (run.code !== 0) throw new Error(`examples ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Report;
}

/** The environment without INIT_CWD (set when the tests run under npm), so paths resolve from `cwd`. */
export function withoutInitCwd(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...environment };
  delete copy['INIT_CWD'];
  return copy;
}
