import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { x as extractTar } from 'tar';
import { NodeDownloadError } from '../errors/node-download-error.js';
import { sha256File } from '../plan/change-plan.js';
import type { WriteGuard } from '../plan/write-guard.js';
import { tarballUrl, type NodeRelease } from './node-releases.js';

/** A verified Node.js binary in the cache. */
export interface CachedNode {
  readonly release: NodeRelease;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

interface CacheRecord {
  readonly packageName: string;
  readonly version: string;
  readonly integrity: string;
  readonly size: number;
  readonly sha256: string;
}

/** `$TSMW_CACHE_DIR`, else `$XDG_CACHE_HOME/tsmw`, else `~/.cache/tsmw`. */
export function defaultCacheDirectory(): string {
  const explicit = process.env['TSMW_CACHE_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'tsmw');
}

function releaseDirectory(cacheDirectory: string, release: NodeRelease): string {
  return join(cacheDirectory, 'node', `${release.packageName}-${release.version}`);
}

/** The cached binary of a release when it is there and was verified against this release's integrity. */
export async function findCachedNode(cacheDirectory: string, release: NodeRelease): Promise<CachedNode | undefined> {
  const directory = releaseDirectory(cacheDirectory, release);
  let record: CacheRecord;
  try {
    record = JSON.parse(await readFile(join(directory, 'record.json'), 'utf8')) as CacheRecord;
  } catch {
    return undefined;
  }
  if (record.integrity !== release.integrity || record.packageName !== release.packageName || record.version !== release.version) return undefined;
  const path = join(directory, release.binaryName);
  try {
    if ((await stat(path)).size !== record.size) return undefined;
  } catch {
    return undefined;
  }
  return { release, path, size: record.size, sha256: record.sha256 };
}

export interface FetchNodeOptions {
  readonly cacheDirectory: string;
  readonly registry: string;
  readonly guard: WriteGuard;
  /** Bytes received so far and the total when known, during the download. */
  readonly onProgress?: (received: number, total: number | undefined) => void;
}

/**
 * The Node.js binary of a release, from the cache, or downloaded once from the npm registry:
 * the tarball's sha512 must equal the pinned integrity (else it is deleted and a
 * `NodeDownloadError` thrown), then only the binary is extracted and kept.
 */
export async function fetchNode(release: NodeRelease, options: FetchNodeOptions): Promise<CachedNode> {
  const cached = await findCachedNode(options.cacheDirectory, release);
  if (cached !== undefined) return cached;
  const finalDirectory = releaseDirectory(options.cacheDirectory, release);
  const workDirectory = `${finalDirectory}.${randomBytes(6).toString('hex')}.partial`;
  await options.guard.check(workDirectory);
  await options.guard.check(finalDirectory);
  await mkdir(workDirectory, { recursive: true });
  const url = tarballUrl(options.registry, release);
  const tarball = join(workDirectory, 'package.tgz');
  try {
    const integrity = await downloadWithRetries(release, url, tarball, options.onProgress);
    if (integrity !== release.integrity) {
      throw new NodeDownloadError(`${url} does not match the pinned integrity of ${release.packageName}@${release.version} (got ${integrity.slice(0, 24)}…, want ${release.integrity.slice(0, 24)}…); it was deleted`);
    }
    try {
      await extractTar({ file: tarball, cwd: workDirectory, strict: true, filter: (path) => path === release.binaryPath });
    } catch (error) {
      throw new NodeDownloadError(`cannot unpack ${release.packageName}@${release.version}: ${(error as Error).message}`, { cause: error });
    }
    const extracted = join(workDirectory, release.binaryPath);
    let size: number;
    try {
      size = (await stat(extracted)).size;
    } catch {
      throw new NodeDownloadError(`${release.packageName}@${release.version} has no ${release.binaryPath}`);
    }
    const binary = join(workDirectory, release.binaryName);
    await rename(extracted, binary);
    await chmod(binary, 0o755);
    await rm(join(workDirectory, 'package'), { recursive: true, force: true });
    await rm(tarball, { force: true });
    const record: CacheRecord = { packageName: release.packageName, version: release.version, integrity: release.integrity, size, sha256: await sha256File(binary) };
    await writeFile(join(workDirectory, 'record.json'), `${JSON.stringify(record, null, 2)}\n`);
    // Another run may have finished the same download meanwhile: then its entry is kept.
    if ((await findCachedNode(options.cacheDirectory, release)) === undefined) {
      await rm(finalDirectory, { recursive: true, force: true });
      try {
        await rename(workDirectory, finalDirectory);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    }
  } finally {
    await rm(workDirectory, { recursive: true, force: true });
  }
  const result = await findCachedNode(options.cacheDirectory, release);
  if (result === undefined) throw new NodeDownloadError(`the cache entry for ${release.packageName}@${release.version} vanished after it was written (${finalDirectory})`);
  return result;
}

/** Attempts at a download that fails on the network or with a 5xx/429 answer, and the waits between them. */
const downloadWaitsMs = [1_000, 3_000, 9_000];

/**
 * Downloads `url` into `tarball` and returns its sha512 integrity. A connection that fails or
 * breaks off, or a 5xx or 429 answer, is tried again (after 1, 3 and 9 s); another answer, or
 * the last failure, is a `NodeDownloadError`.
 */
async function downloadWithRetries(release: NodeRelease, url: string, tarball: string, onProgress: FetchNodeOptions['onProgress']): Promise<string> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await downloadOnce(release, url, tarball, onProgress);
    } catch (error) {
      const transient = error instanceof TransientDownloadError;
      const wait = downloadWaitsMs[attempt];
      if (!transient) throw error;
      if (wait === undefined) throw new NodeDownloadError(`${error.message} (tried ${attempt + 1} times)`, { cause: error.cause });
      await rm(tarball, { force: true });
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** A failure worth trying again (not exported: it becomes a NodeDownloadError when retries run out). */
class TransientDownloadError extends Error {}

async function downloadOnce(release: NodeRelease, url: string, tarball: string, onProgress: FetchNodeOptions['onProgress']): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
      // Not worth a retry: a TLS-inspecting proxy whose certificate Node does not trust.
      throw new NodeDownloadError(
        `cannot download ${release.packageName}@${release.version} from ${url}: the TLS certificate is not trusted (${code}); if a proxy re-signs TLS, point NODE_EXTRA_CA_CERTS at its CA file`,
        { cause: error },
      );
    }
    throw new TransientDownloadError(`cannot download ${release.packageName}@${release.version} from ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok || response.body === null) {
    const message = `cannot download ${release.packageName}@${release.version}: ${url} answered ${response.status} ${response.statusText}`;
    if (response.status >= 500 || response.status === 429) throw new TransientDownloadError(message);
    throw new NodeDownloadError(message);
  }
  const lengthHeader = Number(response.headers.get('content-length'));
  const total = Number.isFinite(lengthHeader) && lengthHeader > 0 ? lengthHeader : undefined;
  const hash = createHash('sha512');
  const handle = await open(tarball, 'wx', 0o600);
  let received = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      await handle.write(chunk);
      received += chunk.length;
      onProgress?.(received, total);
    }
  } catch (error) {
    throw new TransientDownloadError(`the download of ${release.packageName}@${release.version} broke off after ${received} bytes: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
  return `sha512-${hash.digest('base64')}`;
}
