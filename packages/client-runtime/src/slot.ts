import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, openSync, readSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, dirname, basename } from 'node:path';
import { ClientRuntimeError } from './client-runtime-error.js';

export interface ResolveLogicalNameOptions {
  /** The slot directory (the app's working directory when the client starts it). */
  readonly slotDir: string;
  /** The BOINC data directory no resolved path may leave. Default: the slot's `../..`. */
  readonly boincDir?: string;
}

/** How a logical name was found in the slot. */
export type SlotFileKind =
  /** A `<soft_link>` file pointing into the project directory. */
  | 'link-file'
  /** A real symbolic link. */
  | 'symlink'
  /** The file itself (`copy_file`, or a file without the `<soft_link>` tag). */
  | 'copy'
  /** Nothing there yet (e.g. a `copy_file` output the app is to write). */
  | 'absent';

export interface ResolvedSlotFile {
  readonly logicalName: string;
  readonly path: string;
  readonly kind: SlotFileKind;
}

const softLinkPattern = /^<soft_link>(.*?)<\/soft_link>/;
/** Link files are a line of text; read no more than this to recognise one. */
const linkFileReadLimit = 4096;

function escape(logicalName: string, target: string, boincDir: string): ClientRuntimeError {
  return new ClientRuntimeError(
    'TSMW_BOINC_SLOT_PATH_ESCAPE',
    `The logical name "${logicalName}" resolves to ${target}, outside the BOINC data directory ${boincDir}.`,
  );
}

function isInside(root: string, target: string): boolean {
  const path = relative(root, target);
  return path === '' || (!path.startsWith('..') && !isAbsolute(path));
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readHead(path: string): string {
  const descriptor = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(linkFileReadLimit);
    const length = readSync(descriptor, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Finds the file a logical (open) name stands for in a BOINC slot: a copy, a real symlink, or
 * a link file whose first line is `<soft_link>REL_PATH</soft_link>` (relative to the slot). A
 * file without that tag stands for itself. The result, and any symlinks along the way, must stay
 * inside the BOINC data directory, else a `TSMW_BOINC_SLOT_PATH_ESCAPE` error.
 */
export function resolveSlotFile(logicalName: string, options: ResolveLogicalNameOptions): ResolvedSlotFile {
  const slotDir = resolve(options.slotDir);
  const boincDir = resolve(options.boincDir ?? join(slotDir, '..', '..'));
  const realBoincDir = realpathOrSelf(boincDir);
  const inSlot = resolve(slotDir, logicalName);
  if (!isInside(slotDir, inSlot) || inSlot === slotDir) {
    throw escape(logicalName, inSlot, boincDir);
  }
  // Lexically inside, and inside once every symlink on the way is followed (for a file that
  // does not exist yet, its directory's real path).
  const check = (target: string): string => {
    if (!isInside(boincDir, target) && !isInside(realBoincDir, target)) throw escape(logicalName, target, boincDir);
    const real = statOrUndefined(target) === undefined ? join(realpathOrSelf(dirname(target)), basename(target)) : realpathOrSelf(target);
    if (!isInside(realBoincDir, real)) throw escape(logicalName, real, boincDir);
    return target;
  };

  const stats = statOrUndefined(inSlot);
  if (stats === undefined) return { logicalName, path: check(inSlot), kind: 'absent' };
  if (stats.isSymbolicLink()) return { logicalName, path: check(realpathOrSelf(inSlot)), kind: 'symlink' };
  if (stats.isFile() && stats.size < linkFileReadLimit) {
    const firstLine = readHead(inSlot).split('\n', 1)[0] ?? '';
    const match = softLinkPattern.exec(firstLine.trim());
    if (match?.[1] !== undefined) {
      return { logicalName, path: check(resolve(slotDir, match[1].trim())), kind: 'link-file' };
    }
  }
  return { logicalName, path: check(inSlot), kind: 'copy' };
}

/** The path `logicalName` stands for in the slot (see `resolveSlotFile`). */
export function resolveLogicalName(logicalName: string, options: ResolveLogicalNameOptions): string {
  return resolveSlotFile(logicalName, options).path;
}

/** What a non-regular file is, in words, for messages. */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return stats.isFile() ? 'a regular file' : 'not a regular file';
}

/**
 * Refuses to write over anything but a regular file (or nothing): the atomic rename would
 * replace a device, a pipe or a directory's entry with a regular file (as root, `/dev/full`).
 * A symbolic link is followed to what it names. Returns the path to write.
 */
export function regularFileTarget(path: string): string {
  let target = path;
  const linked = statOrUndefined(path);
  if (linked?.isSymbolicLink() === true) target = realpathOrSelf(path);
  const stats = statOrUndefined(target);
  if (stats !== undefined && !stats.isFile()) {
    throw new ClientRuntimeError('TSMW_BOINC_NOT_A_REGULAR_FILE', `${target} is ${fileKind(stats)}, not a regular file: the runtime writes only regular files`);
  }
  return target;
}

/**
 * Checks that a file can be created in `directory` by creating and removing one (permission
 * bits alone do not tell: read-only mounts, ACLs, root). Throws the system error (EACCES, EROFS...).
 */
export function probeWritableDirectory(directory: string): void {
  const probe = join(directory, `.tsmw-write-probe.${process.pid}.${randomBytes(4).toString('hex')}`);
  closeSync(openSync(probe, 'wx', 0o600));
  rmSync(probe, { force: true });
}

export interface WriteFileAtomicOptions {
  /** Flush the file and its directory to disk (default true). */
  readonly fsync?: boolean;
  /** Mode of a new file; default 0o644. */
  readonly mode?: number;
}

function fsyncDirectory(directory: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(directory, 'r');
    fsyncSync(descriptor);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/**
 * Writes `data` to `path` so a reader (or a crash) sees either the old file or the whole new
 * one: a temporary file beside it, fsync, rename over `path`, fsync of the directory. Only over
 * a regular file or nothing (`TSMW_BOINC_NOT_A_REGULAR_FILE` otherwise); a symbolic link is
 * followed, so the file it names is replaced, not the link.
 * Synchronous on purpose: it is used on exit paths and from the BOINC poll loop.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, options: WriteFileAtomicOptions = {}): void {
  const target = regularFileTarget(path);
  const directory = dirname(target);
  const temporary = join(directory, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const descriptor = openSync(temporary, 'wx', options.mode ?? 0o644);
  try {
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(descriptor, bytes, written, bytes.length - written);
      if (options.fsync ?? true) fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  if (options.fsync ?? true) fsyncDirectory(directory);
}

/** `writeFileAtomicSync` for callers that prefer a promise. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: WriteFileAtomicOptions = {}): Promise<void> {
  writeFileAtomicSync(path, data, options);
}
