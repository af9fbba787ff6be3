import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { relative } from 'node:path';

/** What a planned file will hold: bytes, or a copy of a (large) file such as a Node.js binary. */
export type PlannedContent =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'copy'; readonly source: string; readonly size: number; readonly sha256: string; readonly origin: string };

export interface PlannedWrite {
  readonly type: 'write';
  readonly path: string;
  readonly content: PlannedContent;
  readonly mode: number;
  /** Where a copy of the file as it was goes before it is replaced (config.xml, project.xml). */
  readonly backupPath: string | undefined;
  /** Shown as a unified diff (text) or as a size and hash (binary). */
  readonly text: boolean;
  /** The file as it is now (text files only), undefined when it does not exist. */
  readonly before: Uint8Array | undefined;
  readonly exists: boolean;
}

export interface PlannedDelete {
  readonly type: 'delete';
  readonly path: string;
  readonly text: boolean;
  readonly before: Uint8Array | undefined;
  readonly size: number;
}

/** The steps that run a project command; each stays pending until it succeeded. */
export type PendingStep = 'xadd' | 'update_versions' | 'stop' | 'start';

export interface PlannedCommand {
  readonly step: PendingStep;
  /** Relative to the project (`bin/xadd`); run from the project directory. */
  readonly program: string;
  readonly args: readonly string[];
  readonly reason: string;
}

/** Everything a command would change: the same plan is printed by `--dry-run` and carried out otherwise. */
export interface ChangePlan {
  readonly projectHome: string;
  readonly writes: PlannedWrite[];
  readonly deletes: PlannedDelete[];
  /** Directories removed at the end when they are empty. */
  readonly emptyDirectories: string[];
  readonly commands: PlannedCommand[];
  readonly warnings: string[];
  readonly notes: string[];
}

export function createChangePlan(projectHome: string): ChangePlan {
  return { projectHome, writes: [], deletes: [], emptyDirectories: [], commands: [], warnings: [], notes: [] };
}

export function projectRelative(plan: ChangePlan, path: string): string {
  const fromProject = relative(plan.projectHome, path);
  return fromProject.startsWith('..') ? path : fromProject.split('\\').join('/');
}

export async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

// A run compares the same large files (Node.js binaries) more than once: each is hashed once per
// run unless it changed (size and modification time).
const fileHashes = new Map<string, { readonly size: number; readonly mtimeMs: number; readonly sha256: string }>();

export async function sha256File(path: string): Promise<string> {
  const { size, mtimeMs } = await stat(path);
  const known = fileHashes.get(path);
  if (known !== undefined && known.size === size && known.mtimeMs === mtimeMs) return known.sha256;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  fileHashes.set(path, { size, mtimeMs, sha256 });
  return sha256;
}

export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function fileMode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export interface PlanWriteOptions {
  readonly mode?: number;
  /** Keep a copy of the file as it was, at this path, before replacing it. */
  readonly backupPath?: string;
  readonly text?: boolean;
}

/**
 * Adds a write to the plan unless the file already holds exactly this content with this mode:
 * what is already right is never rewritten (a second run changes no byte). Returns whether a
 * write was planned.
 */
export async function planWrite(plan: ChangePlan, path: string, content: PlannedContent | Uint8Array | string, options: PlanWriteOptions = {}): Promise<boolean> {
  const planned: PlannedContent =
    typeof content === 'string' ? { kind: 'bytes', bytes: new TextEncoder().encode(content) } : content instanceof Uint8Array ? { kind: 'bytes', bytes: content } : content;
  const mode = options.mode ?? 0o644;
  const text = options.text ?? planned.kind === 'bytes';
  const currentMode = await fileMode(path);
  let before: Uint8Array | undefined;
  let same = false;
  if (currentMode !== undefined) {
    if (planned.kind === 'bytes') {
      before = await readFile(path);
      same = Buffer.compare(before, planned.bytes) === 0;
    } else {
      const { size } = await stat(path);
      same = size === planned.size && (await sha256File(path)) === planned.sha256;
    }
    if (same && currentMode === mode) return false;
  }
  plan.writes.push({ type: 'write', path, content: planned, mode, backupPath: options.backupPath, text, before: text ? before : undefined, exists: currentMode !== undefined });
  return true;
}

/** Adds a deletion of `path` when it exists. */
export async function planDelete(plan: ChangePlan, path: string, options: { readonly text?: boolean } = {}): Promise<boolean> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    size = info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const text = options.text ?? false;
  plan.deletes.push({ type: 'delete', path, text, before: text ? await readFile(path) : undefined, size });
  return true;
}

/** Whether the plan changes anything at all (files or commands). */
export function planIsEmpty(plan: ChangePlan): boolean {
  return plan.writes.length === 0 && plan.deletes.length === 0 && plan.commands.length === 0;
}
