// The README's samples, run as written: the by-hand run (a task module, an envelope made with
// @tsmw/core, `npx tsmw-runtime ...`, the result read back) and the library entry, in a folder
// laid out as `npm install @tsmw/core @tsmw/client-runtime` lays it out (the runtime's bin in
// node_modules/.bin); and the app_info.xml, checked for what the README says it holds.
// (scripts/test-supported-nodes.mjs runs the same blocks from the packed tarballs on each Node.)
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeBundlePath, runtimeVersion } from '@tsmw/client-runtime';

const packageDirectory = fileURLToPath(new URL('..', import.meta.url));
let blocks: Map<string, string>;
let folder: string;

/** The README's blocks marked `<!-- readme-test: runtime/NAME -->`, by NAME. */
async function readmeBlocks(): Promise<Map<string, string>> {
  const readme = await readFile(join(packageDirectory, 'README.md'), 'utf8');
  return new Map([...readme.matchAll(/<!-- readme-test: runtime\/([\w.-]+) -->\n```\w*\n([\s\S]*?)```/g)].map((match) => [match[1]!, match[2]!]));
}

function block(name: string): string {
  const text = blocks.get(name);
  if (text === undefined) throw new Error(`README.md has no block marked <!-- readme-test: runtime/${name} -->`);
  return text;
}

function shell(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const environment = { ...process.env };
  for (const key of Object.keys(environment)) if (key.startsWith('npm_') || key === 'INIT_CWD') delete environment[key];
  return new Promise((resolve) => {
    execFile('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], { cwd: folder, env: environment }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  blocks = await readmeBlocks();
  // Inside the package, so that @tsmw/core resolves from the workspace as npm would install it.
  folder = await mkdtemp(join(packageDirectory, 'test', '.tmp-readme-'));
  await writeFile(join(folder, 'package.json'), '{ "private": true }\n');
  await mkdir(join(folder, 'node_modules', '@tsmw'), { recursive: true });
  await mkdir(join(folder, 'node_modules', '.bin'));
  await symlink(packageDirectory, join(folder, 'node_modules', '@tsmw', 'client-runtime'));
  await symlink('../@tsmw/client-runtime/dist/tsmw-runtime.mjs', join(folder, 'node_modules', '.bin', 'tsmw-runtime'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('README', () => {
  it('by hand: make-task.mjs, npx tsmw-runtime, read-result.mjs print 144', async () => {
    for (const name of ['tasks.mjs', 'make-task.mjs', 'read-result.mjs']) await writeFile(join(folder, name), block(name));
    const run = await shell(block('run'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('144\n');
    // "The runtime says once on stderr that it runs by hand", and nothing else.
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tsmw-runtime: no init_data\.xml in .*: running by hand, without a BOINC client$/)]);
  });

  it('the library entry: ship-runtime.mjs reads the bundle and names the version', async () => {
    await writeFile(join(folder, 'ship-runtime.mjs'), block('ship-runtime.mjs'));
    const run = await shell('node ship-runtime.mjs');
    expect(run.code, run.stderr).toBe(0);
    const bytes = (await readFile(runtimeBundlePath())).length;
    expect(run.stdout).toBe(`tsmw-runtime ${runtimeVersion}: ${bytes} bytes\n`);
  });

  it('app_info.xml: the runtime as the executable main program, the task module opened as tasks.mjs, an api_version', async () => {
    const xml = block('app_info.xml');
    expect(XMLValidator.validate(xml)).toBe(true);
    const parsed = new XMLParser({ isArray: (name) => ['file_info', 'file_ref', 'app_version'].includes(name) }).parse(xml) as {
      app_info: {
        app: { name: string };
        file_info: { name: string; executable?: string }[];
        app_version: { app_name: string; api_version: string; file_ref: { file_name: string; main_program?: string; open_name?: string }[] }[];
      };
    };
    const info = parsed.app_info;
    expect(info.app_version).toHaveLength(1);
    const [version] = info.app_version;
    expect(version?.app_name).toBe(info.app.name);
    expect(Number(version?.api_version.split('.')[0])).toBeGreaterThanOrEqual(7);
    const files = new Map(info.file_info.map((file) => [file.name, file]));
    const references = version?.file_ref ?? [];
    for (const reference of references) expect(files.has(reference.file_name), reference.file_name).toBe(true);
    const main = references.filter((reference) => reference.main_program !== undefined);
    expect(main).toHaveLength(1);
    expect(main[0]?.file_name).toBe(`tsmw-runtime_${runtimeVersion}.mjs`);
    expect(files.get(main[0]?.file_name ?? '')?.executable).toBeDefined();
    expect(references.find((reference) => reference.open_name === 'tasks.mjs')?.file_name).toMatch(/^tsmw_tasks_[0-9a-f]{12}\.mjs$/);
    // The runtime can be a main program with no Node.js given: it starts with a shebang.
    expect((await readFile(runtimeBundlePath(), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
