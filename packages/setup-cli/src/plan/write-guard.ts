import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { PathEscapeError } from '../errors/path-escape-error.js';

/**
 * Where tsmw-setup may write: inside the project directory and inside the cache, checked on
 * the real file system (`..`, and symbolic links anywhere on the way, cannot lead out).
 */
export interface WriteGuard {
  readonly roots: readonly string[];
  /** Resolves `path` and throws `PathEscapeError` unless writing it stays inside a root. */
  check(path: string): Promise<string>;
}

function isInside(root: string, path: string): boolean {
  const fromRoot = relative(root, path);
  return fromRoot === '' || (!fromRoot.startsWith(`..${sep}`) && fromRoot !== '..' && !isAbsolute(fromRoot));
}

async function deepestExisting(path: string): Promise<string> {
  let current = path;
  for (;;) {
    try {
      await lstat(current);
      return current;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

export async function createWriteGuard(roots: readonly string[]): Promise<WriteGuard> {
  const resolvedRoots = roots.map((root) => resolve(root));
  const realRoots = await Promise.all(
    resolvedRoots.map(async (root) => {
      const existing = await deepestExisting(root);
      const real = await realpath(existing);
      return resolve(real, relative(existing, root));
    }),
  );
  return {
    roots: resolvedRoots,
    async check(path: string): Promise<string> {
      const target = resolve(path);
      const index = resolvedRoots.findIndex((root) => isInside(root, target));
      if (index === -1) throw new PathEscapeError(`${target} is outside the project and the cache; tsmw-setup writes nowhere else`);
      // The target itself must not be a symbolic link (a write would follow it).
      try {
        if ((await lstat(target)).isSymbolicLink()) throw new PathEscapeError(`${target} is a symbolic link; tsmw-setup does not write through links`);
      } catch (error) {
        if (PathEscapeError.isInstance(error)) throw error;
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      // What exists of the path is followed to where it really is; what does not exist yet is
      // created as plain directories below it. The whole must stay inside the root's real place.
      const existing = await deepestExisting(target);
      const real = resolve(await realpath(existing), relative(existing, target));
      if (!isInside(realRoots[index]!, real)) {
        throw new PathEscapeError(`${target} would be written through ${existing}, which leads to ${real}, outside ${resolvedRoots[index]}; tsmw-setup does not follow links out of the project or the cache`);
      }
      return target;
    },
  };
}
