// packages/transport-boinc/README.md's usage, run as written: its tasks.js and master.js in a
// fresh package, its shell lines with sh in a fresh home (~/projects/test is a fake BOINC project
// worked by phantom volunteers). `tsmw-setup init` is the one from @tsmw/setup-cli, which is why
// this test lives here and not in @tsmw/transport-boinc (that package cannot depend on the setup
// CLI, which depends on it). The one thing that differs from a user's shell: the README's example
// URL is the fake project's.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleProject, type ExampleProject } from '../test/create-example-project.js';
import { startPhantomVolunteers, type PhantomVolunteers } from '../test/start-phantom-volunteers.js';
import { withoutInitCwd } from '../test/run-cli.js';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const exampleUrl = 'https://boinc.example.org/test/';

/** The README's blocks marked `<!-- readme-test: boinc/NAME -->`, by NAME. */
async function readmeBlocks(): Promise<Map<string, string>> {
  const readme = await readFile(join(repositoryRoot, 'packages', 'transport-boinc', 'README.md'), 'utf8');
  return new Map([...readme.matchAll(/<!-- readme-test: boinc\/([\w.-]+) -->\n```\w*\n([\s\S]*?)```/g)].map((match) => [match[1]!, match[2]!]));
}

interface ShellRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One user: a home holding ~/projects/test, and a package folder with the README's two files. */
interface User {
  readonly example: ExampleProject;
  readonly folder: string;
  readonly environment: NodeJS.ProcessEnv;
  volunteers?: PhantomVolunteers;
}

function runShell(user: User, script: string): Promise<ShellRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-e', '-c', script], { cwd: user.folder, env: user.environment, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('packages/transport-boinc/README.md', () => {
  let blocks: Map<string, string>;
  const users: User[] = [];
  // Inside apps/examples, so that the README's imports resolve as they would in a user's package.
  const foldersRoot = fileURLToPath(new URL('../test/', import.meta.url));

  const createUser = async (): Promise<User> => {
    const example = await createExampleProject({ app: 'pi', name: 'test', tasks: 'unused: the README runs init', skipInit: true });
    const folder = await mkdtemp(join(foldersRoot, '.tmp-transport-boinc-readme-'));
    const user: User = {
      example,
      folder,
      environment: { ...withoutInitCwd(process.env), HOME: example.home, PATH: `${join(repositoryRoot, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}` },
    };
    users.push(user);
    await writeFile(join(folder, 'package.json'), '{ "type": "module" }\n');
    for (const name of ['tasks.js', 'master.js']) await writeFile(join(folder, name), blocks.get(name)!);
    return user;
  };

  /** The run block's lines: `tsmw-setup init` (then the volunteers start), and the master. */
  const initThenMaster = (): [string, string] => {
    const lines = blocks.get('run')!.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^npx tsmw-setup init /);
    expect(lines[1]).toMatch(/^node master\.js /);
    return [lines[0]!, lines[1]!];
  };

  const setUp = async (user: User): Promise<void> => {
    const [init] = initThenMaster();
    const initRun = await runShell(user, init);
    expect(initRun.code, initRun.stderr).toBe(0);
    user.volunteers = await startPhantomVolunteers(user.example.project, join(user.folder, 'tasks.js'));
  };

  beforeAll(async () => {
    blocks = await readmeBlocks();
    for (const name of ['tasks.js', 'master.js', 'run', 'run-remote']) expect(blocks.has(name), `a block marked boinc/${name}`).toBe(true);
  });
  afterAll(async () => {
    for (const user of users) {
      user.volunteers?.stop();
      await user.example.close();
      await rm(user.folder, { recursive: true, force: true });
    }
  });

  it.concurrent('on the server host: init, then the master prints pi; run again, the same estimate and no new job', async () => {
    const user = await createUser();
    await setUp(user);
    const [, master] = initThenMaster();
    const first = await runShell(user, master);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^pi is about 3\.1\d*\n$/);
    const jobs = user.example.project.counters().workunitsByName;
    expect(jobs.size).toBe(10);
    for (const count of jobs.values()) expect(count).toBe(1);
    // "a run after the batch finished prints the same estimate and creates no job"
    const again = await runShell(user, master);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(user.example.project.counters().workunitsByName).toEqual(jobs);
    expect(user.volunteers?.errors).toEqual([]);
  });

  it.concurrent('from anywhere: the key from a file through BOINC_AUTHENTICATOR, the project URL; pi, and never the key', async () => {
    const user = await createUser();
    await setUp(user);
    const authenticator = user.example.project.authenticator;
    await writeFile(join(user.example.home, '.boinc-key'), `${authenticator}\n`, { mode: 0o600 });
    const block = blocks.get('run-remote')!;
    expect(block).toContain(exampleUrl);
    const remote = await runShell(user, block.replaceAll(exampleUrl, user.example.project.url));
    expect(remote.stdout).not.toContain(authenticator);
    expect(remote.stderr).not.toContain(authenticator);
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stdout).toMatch(/^pi is about 3\.1\d*\n$/);
    expect(user.example.project.counters().workunitsByName.size).toBe(10);
    // The batch's state is where the README says.
    expect((await stat(join(user.folder, 'tsmw-state'))).isDirectory()).toBe(true);
    expect(user.volunteers?.errors).toEqual([]);
  });

  it('without an argument the master says how to run it', async () => {
    const user = users[0] ?? (await createUser());
    const run = await runShell(user, 'node master.js');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('usage: node master.js PROJECT_DIRECTORY | PROJECT_URL');
  });
});
