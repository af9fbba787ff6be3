// The examples CLI as a user meets it: --help that fits a terminal and whose examples run as
// printed, and the switches every example shares.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, withoutInitCwd } from '../test/run-cli.js';
import { checkpointDemoExamples } from './checkpoint-demo/checkpoint-demo-command.js';
import { mandelbrotExamples } from './mandelbrot/mandelbrot-command.js';
import { montePiExamples } from './monte-pi/monte-pi-command.js';
import { nullTestExamples } from './null-test/null-test-command.js';
import { primeFinderExamples } from './prime-finder/prime-finder-command.js';
import { commandPrefix, type CommandExample } from './shared/format-examples.js';
import { wordCountExamples } from './word-count/word-count-command.js';

const examples: Record<string, readonly CommandExample[]> = {
  'monte-pi': montePiExamples,
  'prime-finder': primeFinderExamples,
  mandelbrot: mandelbrotExamples,
  'word-count': wordCountExamples,
  'checkpoint-demo': checkpointDemoExamples,
  'null-test': nullTestExamples,
};
const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The smallest arguments each example needs (word-count names a directory). */
const required: Record<string, string[]> = { 'word-count': [join(repositoryRoot, 'docs')] };

describe('examples CLI', () => {
  let workDirectory: string;
  beforeAll(async () => {
    // Where a user starts `npm run example -- ...`: examples that write files write them here,
    // and the repository folders the examples name are reachable from here.
    workDirectory = await mkdtemp(join(tmpdir(), 'tsmw-examples-'));
    for (const folder of ['docs', 'packages']) await symlink(join(repositoryRoot, folder), join(workDirectory, folder));
  });
  afterAll(async () => {
    await rm(workDirectory, { recursive: true, force: true });
  });

  it('names every example in its --help', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const name of Object.keys(examples)) expect(run.stdout).toContain(`${commandPrefix} ${name}`);
  });

  it.concurrent.each(Object.keys(examples))('%s --help fits 80 columns and prints each example whole on one line', async (name) => {
    const run = await runCli([name, '--help'], { env: { ...withoutInitCwd(process.env), COLUMNS: '80' } });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(examples[name]!.length).toBeGreaterThan(0);
    for (const example of examples[name]!) expect(lines).toContain(`  ${commandPrefix} ${example.command}`);
  });

  const runnable = Object.entries(examples).flatMap(([, list]) => list.filter((example) => example.long !== true).map((example) => example.command));
  it.concurrent.each(runnable)('"%s" runs as printed', async (command) => {
    // The shell would split the line at spaces; no example quotes anything.
    const run = await runCli(command.split(' '), { env: { ...withoutInitCwd(process.env), INIT_CWD: workDirectory }, cwd: repositoryRoot });
    expect(run.stderr.split('\n').filter((line) => !/tasks done|tiles done/.test(line)).join('\n').trim()).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(0);
  });

  it('every example takes -i boinc, and without --project-home or --url exits 2 with one line naming them', async () => {
    const runs = await Promise.all(Object.keys(examples).map((name) => runCli([name, ...(required[name] ?? []), '-i', 'boinc', '--batch', 'b1'])));
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain('--transport boinc needs --project-home DIR');
      expect(run.stderr).toContain('--url URL');
      expect(run.stdout).toBe('');
    }
  });

  it('refuses a BOINC switch on the local transport, and -n on BOINC, with exit code 2 naming it', async () => {
    const runs = await Promise.all([
      runCli(['monte-pi', '--app', 'pi', '-d', '100', '-t', '1']),
      runCli(['monte-pi', '-p', '/srv/project', '-d', '100', '-t', '1']),
      runCli(['monte-pi', '-i', 'boinc', '-p', '/srv/project', '-n', '2']),
      runCli(['monte-pi', '-i', 'boinc', '-p', '/srv/project', '--poll-interval', '1']),
      runCli(['monte-pi', '-i', 'boinc', '-p', '/srv/project', '--batch', 'not a name']),
      runCli(['monte-pi', '-i', 'boinc', '--url', 'ftp://boinc.example.org/']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stdout).toBe('');
    }
    expect(runs[0]!.stderr).toContain('--app is for --transport boinc');
    expect(runs[1]!.stderr).toContain('--project-home is for --transport boinc');
    expect(runs[2]!.stderr).toContain('--workers is for the local transport');
    expect(runs[3]!.stderr).toContain('--poll-interval is for a master that submits remotely (--url)');
    expect(runs[4]!.stderr).toContain('--batch');
    expect(runs[5]!.stderr).toContain('--url must be an http or https URL');
  });

  it('never prints the BOINC authenticator, and refuses it as a switch (ps would show it)', async () => {
    const secret = 'f3e1a5cd0e7c0000deadbeef0123abcd';
    const environment = { ...withoutInitCwd(process.env), TSMW_BOINC_AUTHENTICATOR: secret };
    const runs = await Promise.all([
      runCli(['monte-pi', '-i', 'boinc', '--url', 'https://boinc.example.org/project/', '--app', 'bad app'], { env: environment }),
      runCli(['monte-pi', '--url', 'https://boinc.example.org/project/'], { env: environment }),
      runCli(['monte-pi', '-i', 'boinc', '--url', 'https://boinc.example.org/project/', '--authenticator', secret]),
      runCli(['monte-pi', '--help'], { env: environment }),
      runCli(['monte-pi', '-i', 'boinc', '--url', 'https://boinc.example.org/project/'], { env: { ...environment, TSMW_BOINC_AUTHENTICATOR: '' } }),
    ]);
    for (const run of runs) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
    expect(runs[0]!.code).toBe(2);
    expect(runs[0]!.stderr).toContain('--app');
    expect(runs[1]!.code).toBe(2);
    expect(runs[1]!.stderr).toContain('--url is for --transport boinc');
    expect(runs[2]!.code).toBe(2);
    expect(runs[2]!.stderr).toContain('--authenticator is not taken on the command line');
    expect(runs[2]!.stderr).toContain('TSMW_BOINC_AUTHENTICATOR');
    expect(runs[4]!.code).toBe(2);
    expect(runs[4]!.stderr).toContain('--url needs the key of an account with submit rights: set TSMW_BOINC_AUTHENTICATOR');
  });

  it('refuses --project-home with --url, an unknown switch and a missing example with exit code 2', async () => {
    const runs = await Promise.all([
      runCli(['monte-pi', '-i', 'boinc', '-p', '/srv/project', '--url', 'https://boinc.example.org/']),
      runCli(['monte-pi', '--darts-per-task', '5']),
      runCli([]),
      runCli(['monte-pi', '-n', '0']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(runs[0]!.stderr).toMatch(/project-home|url/);
    expect(runs[1]!.stderr).toContain('darts-per-task');
    expect(runs[3]!.stderr).toContain('--workers');
  });
});
