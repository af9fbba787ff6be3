import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** BOINC's default `uldl_dir_fanout`. */
export const DEFAULT_FANOUT = 1024;

/**
 * The subdirectory of the upload/download hierarchy for a file name (`sched/sched_util_basic.cpp`
 * `filename_hash`): characters 1..7 of the lowercase hex MD5 of the name, read as hex, modulo the
 * fan-out, in lowercase unpadded hex. Undefined for fan-out 0 (no subdirectory).
 */
export function dirHierDirectory(name: string, fanout: number): string | undefined {
  if (fanout === 0) return undefined;
  const digest = createHash('md5').update(name).digest('hex');
  return (Number.parseInt(digest.slice(1, 8), 16) % fanout).toString(16);
}

/** `ROOT/DIR/NAME` (or `ROOT/NAME` for fan-out 0), as `dir_hier_path()` gives it. */
export function dirHierPath(name: string, root: string, fanout: number): string {
  const directory = dirHierDirectory(name, fanout);
  return directory === undefined ? join(root, name) : join(root, directory, name);
}

/** `ROOT_URL/DIR/NAME`, as `dir_hier_url()` gives it. */
export function dirHierUrl(name: string, rootUrl: string, fanout: number): string {
  const directory = dirHierDirectory(name, fanout);
  return directory === undefined ? `${rootUrl}/${name}` : `${rootUrl}/${directory}/${name}`;
}
