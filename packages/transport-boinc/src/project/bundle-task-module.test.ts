import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashTaskModule } from '@tsmw/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskModuleBundleError } from '../errors/task-module-bundle-error.js';
import { bundleTaskModule, listBundleTasks } from './bundle-task-module.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-bundle-test-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeModule(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(directory, name, '..'), { recursive: true });
    await writeFile(join(directory, name), text);
  }
}

describe('bundleTaskModule', () => {
  it('bundles a TypeScript module with its relative imports and @tsmw/core into one loadable file', async () => {
    await writeModule({
      'tasks.ts': "import { defineTask } from '@tsmw/core';\nimport { twice } from './lib/twice.js';\nexport const double = defineTask('double', (n: number) => twice(n));\n",
      'lib/twice.ts': 'export const twice = (n: number): number => n * 2;\n',
    });
    // Resolve @tsmw/core from this workspace.
    await mkdir(join(directory, 'node_modules', '@tsmw'), { recursive: true });
    const { symlink } = await import('node:fs/promises');
    await symlink(join(import.meta.dirname, '..', '..', '..', 'core'), join(directory, 'node_modules', '@tsmw', 'core'));
    await symlink(join(import.meta.dirname, '..', '..', '..', '..', 'node_modules', 'msgpackr'), join(directory, 'node_modules', 'msgpackr'));
    const bundle = await bundleTaskModule(join(directory, 'tasks.ts'));
    expect(bundle.hash).toBe(hashTaskModule(bundle.code));
    const text = new TextDecoder().decode(bundle.code);
    expect(text).not.toMatch(/from\s+["'](\.|@tsmw)/); // nothing left to resolve
    expect(bundle.builtins.every((name) => !name.startsWith('.'))).toBe(true);
    expect(await listBundleTasks(bundle)).toEqual(['double']);
    await writeFile(join(directory, 'bundle.mjs'), bundle.code);
    const loaded = await import(join(directory, 'bundle.mjs'));
    expect(loaded.double.run(21)).toBe(42);
    expect(text).not.toMatch(/^\/\/ \.\.\//m); // module markers do not depend on where the workspace is
  });

  it('gives the same bytes for the same source whatever the working directory', async () => {
    await writeModule({ 'tasks.mjs': "export const value = { name: 'x' };\nimport { readFileSync } from 'node:fs';\nexport const size = () => readFileSync('/dev/null').length;\n" });
    const first = await bundleTaskModule(join(directory, 'tasks.mjs'));
    const previous = process.cwd();
    process.chdir(tmpdir());
    try {
      const second = await bundleTaskModule(new URL(`file://${join(directory, 'tasks.mjs')}`));
      expect(second.hash).toBe(first.hash);
    } finally {
      process.chdir(previous);
    }
    expect(first.builtins).toEqual(['node:fs', 'node:module']);
    await writeModule({ 'tasks.mjs': `${await readFile(join(directory, 'tasks.mjs'), 'utf8')}// changed\nexport const other = 1;\n` });
    expect((await bundleTaskModule(join(directory, 'tasks.mjs'))).hash).not.toBe(first.hash);
  });

  it('refuses a module that does not parse or imports what cannot be found, with the file in the message', async () => {
    await writeModule({ 'broken.ts': 'export const = ;\n', 'missing.ts': "import { x } from './nowhere.js';\nexport const y = x;\n" });
    const broken = await bundleTaskModule(join(directory, 'broken.ts')).catch((error: unknown) => error);
    expect(TaskModuleBundleError.isInstance(broken)).toBe(true);
    expect((broken as Error).message).toContain('broken.ts');
    const missing = await bundleTaskModule(join(directory, 'missing.ts')).catch((error: unknown) => error);
    expect(TaskModuleBundleError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toMatch(/nowhere/);
  });

  it('says so when a bundle exports no task', async () => {
    await writeModule({ 'empty.mjs': 'export const nothing = 1;\n' });
    const bundle = await bundleTaskModule(join(directory, 'empty.mjs'));
    await expect(listBundleTasks(bundle, 'empty.mjs')).rejects.toThrow(/exports no task/);
  });
});
