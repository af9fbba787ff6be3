import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as createTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeDownloadError } from '../errors/node-download-error.js';
import { createWriteGuard } from '../plan/write-guard.js';
import { fetchNode, findCachedNode } from './node-cache.js';
import type { NodeRelease } from './node-releases.js';

let directory: string;
let server: Server;
let registry: string;
let tarball: Buffer;
let requests = 0;
/** Faults the registry double answers the flaky package with, one per request, before serving it. */
const flakyFaults: Array<'503' | 'reset'> = [];
const binary = Buffer.from('#!/bin/sh\necho "fake node"\n');

/** A registry double that serves one package tarball (and 404 for anything else). */
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-node-cache-'));
  const source = join(directory, 'source');
  await mkdir(join(source, 'package', 'bin'), { recursive: true });
  await writeFile(join(source, 'package', 'bin', 'node'), binary, { mode: 0o755 });
  await writeFile(join(source, 'package', 'README.md'), 'not extracted');
  await createTar({ gzip: true, file: join(directory, 'package.tgz'), cwd: source, portable: true }, ['package']);
  tarball = await readFile(join(directory, 'package.tgz'));
  server = createServer((request, response) => {
    requests += 1;
    if (request.url === '/node-flaky-x64/-/node-flaky-x64-24.0.0.tgz') {
      const fault = flakyFaults.shift();
      if (fault === '503') return void response.writeHead(503).end('busy');
      if (fault === 'reset') return void request.socket.destroy();
      response.writeHead(200, { 'content-length': tarball.length, 'content-type': 'application/octet-stream' });
      response.end(tarball);
      return;
    }
    if (request.url === '/node-test-x64/-/node-test-x64-24.0.0.tgz') {
      response.writeHead(200, { 'content-length': tarball.length, 'content-type': 'application/octet-stream' });
      response.end(tarball);
      return;
    }
    response.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(directory, { recursive: true, force: true });
});

function release(integrity: string, packageName = 'node-test-x64'): NodeRelease {
  return { packageName, version: '24.0.0', integrity, binaryPath: 'package/bin/node', binaryName: 'node', os: 'linux' };
}

const integrityOf = (bytes: Buffer): string => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

describe('the Node.js cache', () => {
  it('tries again after a 503 and a connection reset, and gets the binary', async () => {
    const cacheDirectory = join(directory, 'cache-flaky');
    const guard = await createWriteGuard([cacheDirectory]);
    flakyFaults.push('503', 'reset');
    const before = requests;
    const cached = await fetchNode(release(integrityOf(tarball), 'node-flaky-x64'), { cacheDirectory, registry, guard });
    expect(requests - before).toBe(3);
    expect(await readFile(cached.path)).toEqual(binary);
  });

  it('downloads once, checks the integrity, keeps only the binary, and serves the cache afterwards', async () => {
    const cacheDirectory = join(directory, 'cache-ok');
    const guard = await createWriteGuard([cacheDirectory]);
    const good = release(integrityOf(tarball));
    expect(await findCachedNode(cacheDirectory, good)).toBeUndefined();
    const progress: number[] = [];
    const before = requests;
    const cached = await fetchNode(good, { cacheDirectory, registry, guard, onProgress: (received, total) => progress.push(received / (total ?? Number.NaN)) });
    expect(await readFile(cached.path)).toEqual(binary);
    expect(cached.sha256).toBe(createHash('sha256').update(binary).digest('hex'));
    expect((await stat(cached.path)).mode & 0o777).toBe(0o755);
    expect(progress.at(-1)).toBe(1);
    expect((await readdir(join(cacheDirectory, 'node', 'node-test-x64-24.0.0'))).sort()).toEqual(['node', 'record.json']);
    const again = await fetchNode(good, { cacheDirectory, registry, guard });
    expect(again).toEqual(cached);
    expect(requests - before).toBe(1);
  });

  it('refuses a tarball that does not match the pinned integrity, and keeps nothing of it', async () => {
    const cacheDirectory = join(directory, 'cache-bad');
    const guard = await createWriteGuard([cacheDirectory]);
    const wrong = release(integrityOf(Buffer.from('something else')));
    const error = await fetchNode(wrong, { cacheDirectory, registry, guard }).catch((caught: unknown) => caught);
    expect(NodeDownloadError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/does not match the pinned integrity of node-test-x64@24\.0\.0 .* it was deleted$/);
    expect(await readdir(join(cacheDirectory, 'node'))).toEqual([]);
    expect(await findCachedNode(cacheDirectory, wrong)).toBeUndefined();
  });

  it('says what the registry answered when the package is not there', async () => {
    const cacheDirectory = join(directory, 'cache-missing');
    const guard = await createWriteGuard([cacheDirectory]);
    await expect(fetchNode(release(integrityOf(tarball), 'node-absent-x64'), { cacheDirectory, registry, guard })).rejects.toThrow(/answered 404/);
  });

  it('does not trust a cache entry recorded for another integrity', async () => {
    const cacheDirectory = join(directory, 'cache-ok');
    expect(await findCachedNode(cacheDirectory, release(integrityOf(Buffer.from('another build'))))).toBeUndefined();
  });
});
