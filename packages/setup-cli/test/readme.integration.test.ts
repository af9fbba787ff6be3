// The README's `init --dry-run` transcript, run as written: its tasks.ts, then the `$` line with
// bash in a fresh home whose ~/projects/test is the recorded project. What the command prints
// must be the transcript: each run of lines between the transcript's `...` appears, whole and
// in order, in the output (the diff hunks, the binaries, the `run:` lines, the notes), the first
// at its start and the last at its end. Hashes, sizes and the home folder vary: normalised.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDirectory, packageDirectory } from './fixture-project.js';

const repositoryRoot = join(packageDirectory, '..', '..');
/** The home folder the README's transcript was made in. */
const readmeHome = '/home/boincadm';
let readme: string;
let home: string;
let folder: string;

/** The README block marked `<!-- readme-test: setup/NAME -->`. */
function block(name: string): string {
  const match = new RegExp(`<!-- readme-test: setup/${name.replaceAll('.', '\\.')} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (match?.[1] === undefined) throw new Error(`README.md has no block marked <!-- readme-test: setup/${name} -->`);
  return match[1];
}

/** What varies from run to run and machine to machine: hashes (6+ hex digits with a digit among them, such as the launcher's, which follows the runtime's), sizes. */
function normalise(line: string): string {
  // (Not \b: in `tsmw_launcher_e45736ee9843.sh` the underscore is a word character.)
  return line.replaceAll(/(?<![0-9A-Za-z])(?=[0-9a-f]*\d)[0-9a-f]{6,}(?![0-9A-Za-z])/g, '<hash>').replaceAll(/\b\d{1,3}(?:,\d{3})* bytes\b/g, '<n> bytes');
}

/** The index of `lines` in `output` at or after `from` (contiguous), or -1. */
function indexOfLines(output: readonly string[], lines: readonly string[], from: number): number {
  for (let start = from; start + lines.length <= output.length; start += 1) {
    if (lines.every((line, offset) => output[start + offset] === line)) return start;
  }
  return -1;
}

beforeAll(async () => {
  readme = await readFile(join(packageDirectory, 'README.md'), 'utf8');
  home = await mkdtemp(join(tmpdir(), 'tsmw-setup-readme-'));
  const project = join(home, 'projects', 'test');
  await mkdir(join(project, 'bin'), { recursive: true });
  const config = await readFile(join(fixturesDirectory, 'project', 'config.xml'), 'utf8');
  await writeFile(join(project, 'config.xml'), config.replace('<host>vm</host>', `<host>${hostname().split('.')[0]}</host>`));
  await copyFile(join(fixturesDirectory, 'project', 'project.xml'), join(project, 'project.xml'));
  // Inside the package, so that tasks.ts resolves @tsmw/core as in a user's folder.
  folder = await mkdtemp(join(packageDirectory, 'test', '.tmp-readme-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(folder, { recursive: true, force: true });
});

describe('README', () => {
  it('tsmw-setup init --dry-run prints the transcript the README shows', async () => {
    await writeFile(join(folder, 'tasks.ts'), block('tasks.ts'));
    const [first, ...shown] = block('init-dry-run').trimEnd().split('\n');
    const command = /^\$ (tsmw-setup init .* --dry-run)$/.exec(first ?? '')?.[1];
    if (command === undefined) throw new Error(`the transcript starts with ${first}, not $ tsmw-setup init ... --dry-run`);
    const environment: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: `${join(repositoryRoot, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}` };
    delete environment['TSMW_CACHE_DIR'];
    delete environment['INIT_CWD'];
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', command], { cwd: folder, env: environment, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
      });
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const output = run.stdout.trimEnd().replaceAll(home, readmeHome).split('\n').map(normalise);

    // Runs of lines between `...`: each whole, in order; the first at the start, the last at the end.
    const runs = shown.join('\n').split(/^\.\.\.$/m).map((text) => text.replace(/^\n|\n$/g, '').split('\n').map(normalise));
    expect(runs.length).toBeGreaterThan(1);
    let from = 0;
    for (const [index, lines] of runs.entries()) {
      const at = indexOfLines(output, lines, from);
      expect(at, `the README's lines\n${lines.join('\n')}\nin what init printed:\n${output.slice(from).join('\n')}`).toBeGreaterThanOrEqual(0);
      if (index === 0) expect(at).toBe(0);
      if (index === runs.length - 1) expect(at + lines.length).toBe(output.length);
      from = at + lines.length;
    }
    // The diff hunks' added lines, the commands and the last line are among what was compared.
    const compared = runs.flat();
    expect(compared).toContain('+            <cmd>script_assimilator -d 3 --app pi --script tsmw_assimilator</cmd>');
    expect(compared.filter((line) => line.startsWith('run: '))).toEqual(output.filter((line) => line.startsWith('run: ')));
    expect(compared.at(-1)).toBe('(dry run: nothing was changed)');
    // "It downloads nothing".
    expect(existsSync(join(home, '.cache'))).toBe(false);
  });
});
