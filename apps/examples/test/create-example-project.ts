// A fake BOINC project (tools/boinc-test-server) set up for an example's app the way a user sets
// up a real one: `tsmw-setup init` run as a program. Its daemons (the validator and tsmw's
// assimilator that init adds to config.xml) run in this process.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFakeBoincProject, type FakeBoincProject, type FakeBoincProjectOptions } from '@tsmw/boinc-test-server';

const require = createRequire(import.meta.url);
/** `tsmw-setup` as npm installs it. */
export const setupCliPath = join(dirname(require.resolve('@tsmw/setup-cli/package.json')), 'dist', 'cli.js');
/** The built examples package (its dist/ holds the task modules). */
export const examplesDirectory = fileURLToPath(new URL('../', import.meta.url));

export interface ExampleProject {
  readonly project: FakeBoincProject;
  /** A fresh folder that holds the project (`<home>/projects/<name>`): a user's home for the docs' commands. */
  readonly home: string;
  close(): Promise<void>;
}

export interface ExampleProjectOptions {
  readonly app: string;
  /** The project's folder under `<home>/projects` (default: the app's name). */
  readonly name?: string;
  /** The task module, relative to apps/examples (e.g. `dist/monte-pi/tasks.js`). */
  readonly tasks: string;
  /** Leave `tsmw-setup init` to the caller. */
  readonly skipInit?: boolean;
  /** For a real BOINC client: how soon its scheduler replies ask it back (default the double's 5 s). */
  readonly nextRpcDelaySeconds?: number;
  /** Receives the fake project's log lines. */
  readonly log?: FakeBoincProjectOptions['log'];
}

/** Runs a program with Node; rejects with its output when it fails. */
export function runNode(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: options.cwd ?? examplesDirectory, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`node ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
    });
  });
}

export async function createExampleProject(options: ExampleProjectOptions): Promise<ExampleProject> {
  const home = await mkdtemp(join(tmpdir(), 'tsmw-examples-boinc-'));
  const directory = join(home, 'projects', options.name ?? options.app);
  await mkdir(dirname(directory), { recursive: true });
  const project = await createFakeBoincProject({
    directory,
    daemonIntervalMs: 50,
    assimilatorRestartDelayMs: 200,
    ...(options.nextRpcDelaySeconds === undefined ? {} : { nextRpcDelaySeconds: options.nextRpcDelaySeconds }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  try {
    if (options.skipInit !== true) {
      await runNode([setupCliPath, 'init', '-p', directory, '-a', options.app, '-t', options.tasks, '--node', 'host', '--platforms', 'x86_64-pc-linux-gnu']);
    }
  } catch (error) {
    await project.close();
    await rm(home, { recursive: true, force: true });
    throw error;
  }
  return {
    project,
    home,
    async close() {
      await project.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
