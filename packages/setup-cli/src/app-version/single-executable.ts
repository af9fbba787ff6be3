import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postject from 'postject';
import { NodeDownloadError } from '../errors/node-download-error.js';
import { sha256File } from '../plan/change-plan.js';
import type { WriteGuard } from '../plan/write-guard.js';
import type { CachedNode } from './node-cache.js';

const run = promisify(execFile);

/** Node's fuse for single executable applications (the same string in every Node release). */
const seaFuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface SingleExecutable {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/**
 * A copy of `target` (a Node.js binary) with `mainSource` embedded as its main script: a Node
 * single executable application. The preparation blob is made by `builder`, a Node binary of
 * the SAME version that runs on this machine. Built once per (binary, script) into the cache.
 */
export async function buildSingleExecutable(target: CachedNode, builder: CachedNode, mainSource: string, options: { readonly cacheDirectory: string; readonly guard: WriteGuard }): Promise<SingleExecutable> {
  if (builder.release.version !== target.release.version) {
    throw new NodeDownloadError(`a single executable for Node.js ${target.release.version} must be prepared by the same version; this machine's is ${builder.release.version}`);
  }
  const scriptHash = createHash('sha256').update(mainSource).digest('hex').slice(0, 16);
  const directory = join(options.cacheDirectory, 'node', 'sea', `${target.release.packageName}-${target.release.version}-${scriptHash}`);
  const finalPath = join(directory, target.release.binaryName);
  const recordPath = join(directory, 'record.json');
  try {
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as { size: number; sha256: string; targetSha256: string };
    if (record.targetSha256 === target.sha256 && (await stat(finalPath)).size === record.size) return { path: finalPath, size: record.size, sha256: record.sha256 };
  } catch {
    // not built yet
  }
  const work = `${directory}.${randomBytes(6).toString('hex')}.partial`;
  await options.guard.check(work);
  await options.guard.check(directory);
  await mkdir(work, { recursive: true });
  try {
    await writeFile(join(work, 'main.cjs'), mainSource);
    await writeFile(
      join(work, 'sea-config.json'),
      JSON.stringify({ main: 'main.cjs', output: 'sea-prep.blob', disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false }),
    );
    try {
      await run(builder.path, ['--experimental-sea-config', 'sea-config.json'], { cwd: work });
    } catch (error) {
      throw new NodeDownloadError(`Node.js ${builder.release.version} could not prepare the launcher blob: ${String((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n')[0]}`, { cause: error });
    }
    const output = join(work, target.release.binaryName);
    await copyFile(target.path, output);
    try {
      await postject.inject(output, 'NODE_SEA_BLOB', await readFile(join(work, 'sea-prep.blob')), { sentinelFuse: seaFuse, machoSegmentName: 'NODE_SEA' });
    } catch (error) {
      throw new NodeDownloadError(`cannot embed the launcher into ${target.release.packageName}@${target.release.version}: ${(error as Error).message}`, { cause: error });
    }
    const size = (await stat(output)).size;
    const sha256 = await sha256File(output);
    await rm(join(work, 'sea-prep.blob'), { force: true });
    await writeFile(join(work, 'record.json'), `${JSON.stringify({ size, sha256, targetSha256: target.sha256 }, null, 2)}\n`);
    await rm(directory, { recursive: true, force: true });
    try {
      await rename(work, directory);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error; // another run built the same one
    }
    return { path: finalPath, size, sha256 };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
