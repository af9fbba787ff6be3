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

describe('making a chunk of unreferenced files durable', () => {
  it('flushes the file system of the download directory once for the lot', async () => {
    const flushed: string[] = [];
    const stager = createDownloadStager({ downloadDirectory: directory, fanout: 16, syncFileSystem: async (path) => (flushed.push(path), true) });
    const paths = await Promise.all(['a', 'b', 'c'].map((name) => stager.writeUnreferenced(`tsmw_b_k${name}_a1.in`, new Uint8Array([1]))));
    await stager.flushUnreferenced(paths);
    await stager.flushUnreferenced([]);
    expect(flushed).toEqual([directory]);
  });

  it('falls back to an fdatasync of each file where the file system cannot be flushed, and stops asking', async () => {
    let asked = 0;
    const stager = createDownloadStager({ downloadDirectory: directory, fanout: 16, syncFileSystem: async () => (asked++, false) });
    const paths = await Promise.all(['a', 'b'].map((name) => stager.writeUnreferenced(`tsmw_b_k${name}_a1.in`, new Uint8Array([2]))));
    await stager.flushUnreferenced(paths);
    await stager.flushUnreferenced(paths);
    expect(asked).toBe(1);
    // An fdatasync opens each file: one that vanished is an error, not a silent success.
    await rm(paths[0]!);
    await expect(stager.flushUnreferenced(paths)).rejects.toThrow(/ENOENT/);
  });

  it('does nothing when staging is not durable', async () => {
    const stager = createDownloadStager({ downloadDirectory: directory, fanout: 16, durable: false, syncFileSystem: async () => expect.unreachable('no flush when not durable') });
    await stager.flushUnreferenced([join(directory, 'absent')]);
  });
});
