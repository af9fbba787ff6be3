// What ships to volunteers: one file that imports nothing but Node's built-in modules.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { runtimeBundlePath } from '../src/index.js';

describe('the runtime bundle (dist/tsmw-runtime.mjs)', () => {
  const path = runtimeBundlePath();
  const text = readFileSync(path, 'utf8');

  it('starts with a shebang and is executable', () => {
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(path).mode & 0o111).not.toBe(0);
  });

  it('bundles core, msgpackr (pure JavaScript) and fast-xml-parser: no native accelerator, no require', () => {
    expect(text).not.toContain('msgpackr-extract');
    expect(text).not.toMatch(/\bcreateRequire\b/);
    expect(text).toContain('Maximum nested tags exceeded');
  });

  it('has no import or require but node: built-ins, as a JavaScript parser reads it (not by pattern)', async () => {
    const result = await build({ entryPoints: [path], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', external: ['*'], logLevel: 'silent' });
    const records = Object.values(result.metafile.inputs).flatMap((input) => input.imports);
    expect(records.length).toBeGreaterThan(5);
    const builtins = new Set(builtinModules);
    expect(records.filter((record) => !(record.path.startsWith('node:') && builtins.has(record.path.slice(5))))).toEqual([]);
  });

  it('runs with nothing but itself (a copy outside the repository, no node_modules in reach)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsmw-bundle-'));
    try {
      await copyFile(path, join(dir, 'tsmw-runtime.mjs'));
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [join(dir, 'tsmw-runtime.mjs'), '--version'], { cwd: dir }, (error, out, err) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out, stderr: err }),
        );
      });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
