// docs/boinc.md, run as written against a fake BOINC project in a fresh home folder
// (~/projects/pi) worked by phantom volunteers: tsmw-setup init, the master on the server host
// and remotely, then a master killed with SIGKILL while its tasks are out and run again with the
// same --batch. Two things differ from a user's shell: `npm run example --` runs the built CLI
// (`node apps/examples/dist/cli.js`, what it runs after building), and the doc's example URL is
// the fake project's.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliJson, withoutInitCwd } from '../test/run-cli.js';
import { createExampleProject, type ExampleProject } from '../test/create-example-project.js';
import { startPhantomVolunteers, type PhantomVolunteers } from '../test/start-phantom-volunteers.js';
import type { MontePiReport } from './monte-pi/run-monte-pi.js';
import { seedFromBatch } from './shared/start-example-master.js';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const tasksModule = new URL('../dist/monte-pi/tasks.js', import.meta.url);
const exampleUrl = 'https://boinc.example.org/pi/';

let doc: string;
/** The doc's ```sh block that starts with `firstLine`. */
const shellBlock = (firstLine: string): string => {
  const block = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!).find((code) => code.startsWith(firstLine));
  if (block === undefined) throw new Error(`docs/boinc.md has no sh block starting with ${firstLine}`);
  return block;
};
const textBlocks = (): string[] => [...doc.matchAll(/```text\n([\s\S]*?)```/g)].map((match) => match[1]!);

/**
 * `kill -9` of the master, as a user sends it from another terminal: SIGKILL to the node process
 * (the shell's child, or the shell itself when it exec'd the command), whose parent then reaps
 * it. Killing the shell too would leave the master an unreaped zombie where PID 1 reaps nothing,
 * and a zombie still looks alive to the batch's lock.
 */
function killMaster(shellPid: number): void {
  let listed = '';
  try {
    listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(shellPid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when the shell has no child: it exec'd the master
  }
  const children = listed.split('\n').map(Number).filter((pid) => pid > 0);
  for (const pid of children.length === 0 ? [shellPid] : children) process.kill(pid, 'SIGKILL');
}

interface ShellRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('docs/boinc.md', () => {
  let example: ExampleProject;
  let volunteers: PhantomVolunteers;
  let environment: NodeJS.ProcessEnv;

  /** Runs a block with sh in the repository, HOME being the fresh home; `onStart` gets the shell's pid. */
  const runBlock = (block: string, onStart?: (shellPid: number) => void): Promise<ShellRun> => {
    const script = block.replaceAll('npm run example --', `'${process.execPath}' apps/examples/dist/cli.js`).replaceAll(exampleUrl, example.project.url);
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-e', '-c', script], { cwd: repositoryRoot, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      if (onStart !== undefined && child.pid !== undefined) onStart(child.pid);
    });
  };

  beforeAll(async () => {
    doc = await readFile(join(repositoryRoot, 'docs', 'boinc.md'), 'utf8');
    example = await createExampleProject({ app: 'monte-pi', name: 'pi', tasks: 'dist/monte-pi/tasks.js', skipInit: true });
    environment = {
      ...withoutInitCwd(process.env),
      HOME: example.home,
      PATH: `${join(repositoryRoot, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}`,
    };
    delete environment['TSMW_BOINC_AUTHENTICATOR'];
    delete environment['TSMW_STATE_DIR'];
    delete environment['XDG_STATE_HOME'];
  });
  afterAll(async () => {
    volunteers?.stop();
    await example?.close();
  });

  it('1. tsmw-setup init sets up the app', async () => {
    const run = await runBlock(shellBlock('npx tsmw-setup init'));
    expect(run.code, run.stderr).toBe(0);
    volunteers = await startPhantomVolunteers(example.project, tasksModule);
  });

  // The masters of sections 2 and 4 run at once (their batches differ): the remote one waits for
  // its first poll.
  it.concurrent('2. the master on the server host (-p) prints pi, as the doc shows it', async () => {
    const run = await runBlock(shellBlock('npm run example -- monte-pi -i boinc -p ~/projects/pi'));
    expect(run.code, run.stderr).toBe(0);
    const shown = textBlocks().find((block) => block.startsWith('batch pi-1:'));
    expect(shown).toBeDefined();
    const [firstShown, ...restShown] = shown!.trimEnd().split('\n');
    expect(run.stderr.split('\n')[0]).toBe(firstShown!.replace('/home/you/projects/pi', example.project.directory));
    const progress = /^\d\d:\d\d:\d\d \d+\/4 tasks done \(\d+%\)$/;
    for (const line of restShown.filter((line) => line.includes('tasks done'))) expect(line).toMatch(progress);
    for (const line of run.stderr.trimEnd().split('\n').slice(1)) expect(line).toMatch(progress);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/ 4\/4 tasks done \(100%\)$/);
    const estimate = Number(/^pi ≈ (3\.\d{7}) {2}\(error \d\.\d\de-\d, seed \d+\)$/m.exec(run.stdout)?.[1]);
    expect(Math.abs(estimate - Math.PI)).toBeLessThan(0.01);
    expect(run.stdout).toMatch(/^4,000,000 darts in 4 tasks on tsmw\.boinc: /m);
    // The seed comes from the batch name: the doc shows the very estimate this command prints.
    const piShown = restShown.find((line) => line.startsWith('pi ≈'));
    expect(piShown).toBeDefined();
    expect(run.stdout.split('\n')[0]).toBe(piShown);
    for (const line of restShown.filter((line) => line.startsWith('pi ≈') || line.includes('darts in'))) {
      expect(line).toMatch(/^pi ≈ 3\.\d{7} {2}\(error \d\.\d\de-\d, seed \d+\)$|^4,000,000 darts in 4 tasks on tsmw\.boinc: [\d.]+ s, [\d,]+ darts\/s, [\d.]+ tasks\/s$/);
    }
  });

  it.concurrent('2. the master elsewhere (--url, the key from a file through the environment) prints pi and never the key', async () => {
    const authenticator = example.project.authenticator;
    await mkdir(join(example.home, '.config', 'tsmw'), { recursive: true });
    await writeFile(join(example.home, '.config', 'tsmw', 'authenticator'), `${authenticator}\n`, { mode: 0o600 });
    const block = shellBlock('export TSMW_BOINC_AUTHENTICATOR=');
    expect(block).not.toMatch(/--authenticator/);
    const run = await runBlock(block);
    expect(run.stdout).not.toContain(authenticator);
    expect(run.stderr).not.toContain(authenticator);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n')[0]).toBe(`batch pi-2: 4 tasks on BOINC (app monte-pi, remote project ${example.project.url})`);
    const estimate = Number(/^pi ≈ (3\.\d{7})/m.exec(run.stdout)?.[1]);
    expect(Math.abs(estimate - Math.PI)).toBeLessThan(0.01);
  });

  it.concurrent('4. a master killed while its tasks are out, run again with the same --batch, gets every result and submits nothing twice', async () => {
    volunteers.hold((name) => name.includes('pi-night')); // its tasks stay out while the first master runs
    const block = shellBlock('npm run example -- monte-pi -i boinc -p ~/projects/pi -t 4 -d 4e6 --batch pi-night');
    const night = (): string[] => example.project.workunits().filter((workunit) => workunit.name.includes('pi-night')).map((workunit) => workunit.name);
    let shellPid = 0;
    const first = runBlock(block, (pid) => (shellPid = pid));
    await example.project.waitFor(() => (night().length === 4 ? true : undefined), { timeoutMs: 120_000, what: 'the 4 workunits of batch pi-night' });
    killMaster(shellPid);
    const killed = await first;
    expect(killed.signal ?? killed.code).not.toBe(0);
    expect(killed.stdout).not.toContain('pi ≈');

    volunteers.release();
    // The estimate an uninterrupted run prints: the same darts (the seed comes from the batch name) on this machine's threads.
    const [again, local] = await Promise.all([runBlock(block), runCliJson<MontePiReport>(['monte-pi', '-t', '4', '-d', '4e6', '--seed', String(seedFromBatch('pi-night')), '-n', '1'])]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr.split('\n')[0]).toBe(`batch pi-night: 4 tasks on BOINC (app monte-pi, project ${example.project.directory}), 4 of them still open from an earlier run`);
    const match = /^pi ≈ (3\.\d{7}) {2}\(error [^,]+, seed (\d+)\)$/m.exec(again.stdout);
    expect(match).not.toBeNull();
    // Nothing submitted twice: still the 4 workunits, each created once.
    const created = example.project.counters().workunitsByName;
    expect(night()).toHaveLength(4);
    for (const name of night()) expect(created.get(name)).toBe(1);
    expect(match![2]).toBe(String(local.seed));
    expect(match![1]).toBe(local.estimate.toFixed(7));
    expect(volunteers.errors).toEqual([]);
  });
});
