import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** BOINC's default `uldl_dir_fanout`. */
export const DEFAULT_UPLOAD_DOWNLOAD_FANOUT = 1024;

/**
 * The sub-directory of `download/` (or `upload/`) where BOINC keeps a file of this name: the
 * hexadecimal of the integer read from characters 1 to 7 of the name's MD5, modulo the fanout
 * (BOINC's `filename_hash` in `sched/sched_util_basic.cpp`). A fanout of 0 means no
 * sub-directory.
 */
export function dirHierDirectory(fileName: string, fanout: number = DEFAULT_UPLOAD_DOWNLOAD_FANOUT): string {
  if (fanout === 0) return '';
  if (!Number.isInteger(fanout) || fanout < 0) throw new RangeError(`fanout must be a whole number >= 0, not ${fanout}`);
  const md5 = createHash('md5').update(fileName).digest('hex');
  return (Number.parseInt(md5.slice(1, 8), 16) % fanout).toString(16);
}

/** The path of a file in a BOINC download or upload hierarchy rooted at `root`. */
export function dirHierPath(root: string, fileName: string, fanout: number = DEFAULT_UPLOAD_DOWNLOAD_FANOUT): string {
  return join(root, dirHierDirectory(fileName, fanout), fileName);
}
