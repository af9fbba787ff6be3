import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile, lstat, readlink } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageDirectory = fileURLToPath(new URL('..', import.meta.url));
export const fixturesDirectory = join(packageDirectory, 'test', 'fixtures');
export const cliPath = join(packageDirectory, 'dist', 'cli.js');
export const tasksFixture = (name: string): string => join(fixturesDirectory, 'tasks', name);

/**
 * A copy of the recorded project (config.xml, project.xml) with `<host>` set to this host (or
 * `host`), and doubles of `bin/xadd`, `bin/update_versions`, `bin/start`, `bin/stop` that record
 * each call (program and arguments, one line) in a file OUTSIDE the project, so that hashing
 * the project tree sees only what tsmw-setup did. A double fails (exit 1, one line) while a file
 * `fail-<program>` exists beside the record.
 */
export interface FixtureProject {
  readonly directory: string;
  readonly home: string;
  readonly callsPath: string;
  readonly cacheDirectory: string;
  calls(): Promise<string[]>;
  failProgram(program: string, failing: boolean): Promise<void>;
  /** sha256 over every file's path, mode and bytes (and every link's target) in the project. */
  treeHash(): Promise<string>;
  /** Environment for the CLI: the call record, a project-local cache. */
  readonly environment: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export const doubledPrograms = ['xadd', 'update_versions', 'start', 'stop'] as const;

export async function createFixtureProject(options: { readonly host?: string } = {}): Promise<FixtureProject> {
  const directory = await mkdtemp(join(tmpdir(), 'tsmw-setup-test-'));
  const home = join(directory, 'project');
  await mkdir(join(home, 'bin'), { recursive: true });
  const config = await readFile(join(fixturesDirectory, 'project', 'config.xml'), 'utf8');
  await writeFile(join(home, 'config.xml'), config.replace('<host>vm</host>', `<host>${options.host ?? hostname().split('.')[0]}</host>`));
  await copyFile(join(fixturesDirectory, 'project', 'project.xml'), join(home, 'project.xml'));
  const callsPath = join(directory, 'calls.log');
  for (const program of doubledPrograms) {
    const path = join(home, 'bin', program);
    await writeFile(
      path,
      `#!/bin/sh
# test double of BOINC's bin/${program}: records the call; fails while fail-${program} exists
echo "${program}$([ $# -gt 0 ] && printf ' %s' "$*")" >> "${callsPath}"
if [ -e "${join(directory, `fail-${program}`)}" ]; then echo "${program}: failing as asked by the test" >&2; exit 1; fi
exit 0
`,
    );
    await chmod(path, 0o755);
  }
  const cacheDirectory = join(directory, 'cache');
  return {
    directory,
    home,
    callsPath,
    cacheDirectory,
    async calls() {
      try {
        return (await readFile(callsPath, 'utf8')).split('\n').filter((line) => line !== '');
      } catch {
        return [];
      }
    },
    async failProgram(program, failing) {
      const marker = join(directory, `fail-${program}`);
      if (failing) await writeFile(marker, '');
      else await rm(marker, { force: true });
    },
    treeHash: () => hashTree(home),
    environment: { ...process.env, TSMW_CACHE_DIR: cacheDirectory },
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
}

export async function hashTree(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (directory: string): Promise<void> => {
    for (const name of (await readdir(directory)).sort()) {
      const path = join(directory, name);
      const info = await lstat(path);
      const label = relative(root, path);
      if (info.isSymbolicLink()) hash.update(`link ${label} ${await readlink(path)}\n`);
      else if (info.isDirectory()) {
        hash.update(`dir ${label}\n`);
        await walk(path);
      } else hash.update(`file ${label} ${(info.mode & 0o777).toString(8)} `).update(await readFile(path)).update('\n');
    }
  };
  await walk(root);
  return hash.digest('hex');
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `tsmw-setup` as a user would. */
export function runCli(args: readonly string[], environment: NodeJS.ProcessEnv = process.env, cwd = packageDirectory): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [cliPath, ...args], { cwd, env: environment, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1;
      resolvePromise({ code, stdout, stderr });
    });
  });
}


/**
 * Puts a "Node.js binary" for a pinned release into a cache, as a verified download would leave
 * it: a small script that runs this machine's node (so an app version built from it runs), and
 * the record with the release's integrity. Tests of project editing need no 50 MB download.
 */
export async function seedNodeCache(cacheDirectory: string, release: { readonly packageName: string; readonly version: string; readonly integrity: string; readonly binaryName: string }): Promise<string> {
  const directory = join(cacheDirectory, 'node', `${release.packageName}-${release.version}`);
  await mkdir(directory, { recursive: true });
  const binary = join(directory, release.binaryName);
  const script = `#!/bin/sh\n# stands in for ${release.packageName}@${release.version} in tests\nexec '${process.execPath}' "$@"\n`;
  await writeFile(binary, script, { mode: 0o755 });
  const sha256 = createHash('sha256').update(script).digest('hex');
  await writeFile(join(directory, 'record.json'), JSON.stringify({ packageName: release.packageName, version: release.version, integrity: release.integrity, size: Buffer.byteLength(script), sha256 }));
  return binary;
}
