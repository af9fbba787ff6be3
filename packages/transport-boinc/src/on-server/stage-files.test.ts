import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dirHierPath } from './dir-hier.js';
import { createDownloadStager } from './stage-files.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-stage-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe.each([true, false])('the download stager (durable %s)', (durable) => {
  it("writes a job's own file straight under its name in the fan-out directory, replacing what an interrupted attempt left", async () => {
    const stager = createDownloadStager({ downloadDirectory: directory, fanout: 16, durable });
    const path = dirHierPath(directory, 'tsmw_b_k1_a1.in', 16);
    expect(stager.pathOf('tsmw_b_k1_a1.in')).toBe(path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, 'a longer half-written leftover of a crashed master');
    expect(await stager.writeUnreferenced('tsmw_b_k1_a1.in', new Uint8Array([1, 2, 3]))).toBe(path);
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    expect(await readdir(dirname(path))).toEqual(['tsmw_b_k1_a1.in']);
  });

  it('writes and copies shared files through a temporary name, leaving none behind', async () => {
    const stager = createDownloadStager({ downloadDirectory: directory, fanout: 0, durable });
    await stager.write('tsmw_b_fdata', new TextEncoder().encode('shared'));
    const source = join(directory, '..', `${directory.split('/').at(-1)}-source`);
    await writeFile(source, 'copied');
    try {
      await stager.copy('tsmw_b_fcopy', source);
    } finally {
      await rm(source, { force: true });
    }
    expect((await readdir(directory)).sort()).toEqual(['tsmw_b_fcopy', 'tsmw_b_fdata']);
    expect(await readFile(join(directory, 'tsmw_b_fdata'), 'utf8')).toBe('shared');
    expect(await readFile(join(directory, 'tsmw_b_fcopy'), 'utf8')).toBe('copied');
  });
});
