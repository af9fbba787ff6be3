import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BoincProjectError } from '../errors/boinc-project-error.js';
import { findAppVersionForModule, parseAppManifest, readAppManifest, writeAppManifest, type TsmwAppManifest } from './app-manifest.js';
import { formatVersionNum, parseVersionDirectory, tsmwProjectLayout } from './tsmw-project-layout.js';

const hashA = 'a'.repeat(64);
const hashB = 'b'.repeat(64);
const manifest: TsmwAppManifest = {
  format: 1,
  app: 'pi',
  versions: [
    { versionNum: 101, moduleHash: hashB, taskNames: ['pi'], platforms: ['x86_64-pc-linux-gnu'], node: { mode: 'host' }, runtimeVersion: '0.1.0', createdAt: '2026-11-26T10:00:00.000Z' },
    { versionNum: 100, moduleHash: hashA, taskNames: ['pi'], platforms: ['x86_64-pc-linux-gnu', 'windows_x86_64'], node: { mode: 'bundled', version: '24.18.1' }, runtimeVersion: '0.1.0', createdAt: '2026-11-25T10:00:00.000Z' },
  ],
};

let project: string;
beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), 'tsmw-project-'));
});
afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

describe('app manifest', () => {
  it('is absent until written, then reads back sorted by version', async () => {
    expect(await readAppManifest(project, 'pi')).toBeUndefined();
    await writeAppManifest(project, manifest);
    const read = await readAppManifest(project, 'pi');
    expect(read?.versions.map((version) => version.versionNum)).toEqual([100, 101]);
    expect(read?.versions[0]?.node).toEqual({ mode: 'bundled', version: '24.18.1' });
    expect(await readFile(tsmwProjectLayout(project).appManifestPath('pi'), 'utf8')).toMatch(/\n$/);
  });

  it('finds the newest version carrying a module hash', () => {
    expect(findAppVersionForModule(manifest, hashA)?.versionNum).toBe(100);
    expect(findAppVersionForModule(manifest, 'c'.repeat(64))).toBeUndefined();
  });

  it.each([
    ['not JSON', '{'],
    ['another format', JSON.stringify({ format: 2, app: 'pi', versions: [] })],
    ['another app', JSON.stringify({ format: 1, app: 'other', versions: [] })],
    ['a bad hash', JSON.stringify({ format: 1, app: 'pi', versions: [{ ...manifest.versions[0], moduleHash: 'xyz' }] })],
    ['a duplicate version', JSON.stringify({ format: 1, app: 'pi', versions: [manifest.versions[0], manifest.versions[0]] })],
    ['a bad node record', JSON.stringify({ format: 1, app: 'pi', versions: [{ ...manifest.versions[0], node: { mode: 'bundled' } }] })],
  ])('refuses a manifest with %s, naming the file', async (_name, text) => {
    const path = tsmwProjectLayout(project).appManifestPath('pi');
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, text);
    const error = await readAppManifest(project, 'pi').catch((caught: unknown) => caught);
    expect(BoincProjectError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('pi.json');
  });

  it('refuses app names that could leave the apps directory', () => {
    expect(() => parseAppManifest('{}', '../x')).toThrow(/not a valid app name/);
    expect(() => tsmwProjectLayout(project).appManifestPath('../../etc/passwd')).toThrow(/not a valid app name/);
  });
});

describe('project layout', () => {
  it('names BOINC version directories both ways', () => {
    expect(formatVersionNum(102)).toBe('1.02');
    expect(formatVersionNum(100)).toBe('1.00');
    expect(formatVersionNum(1234)).toBe('12.34');
    expect(parseVersionDirectory('1.02')).toBe(102);
    expect(parseVersionDirectory('1.2')).toBeUndefined();
    expect(parseVersionDirectory('..')).toBeUndefined();
  });

  it('keeps batches, apps and programs inside the project', () => {
    const layout = tsmwProjectLayout(project);
    expect(layout.batchInbox('pi-2026-11')).toBe(join(project, 'tsmw', 'batches', 'pi-2026-11', 'inbox'));
    expect(() => layout.batchInbox('../up')).toThrow(/not a valid batch name/);
    expect(() => layout.binPath('../x')).toThrow(/not a program name/);
    expect(() => layout.appVersionDirectory('pi', 100, '../x')).toThrow(/not a BOINC platform/);
    expect(layout.appVersionDirectory('pi', 100, 'x86_64-pc-linux-gnu')).toBe(join(project, 'apps', 'pi', '1.00', 'x86_64-pc-linux-gnu'));
  });
});
