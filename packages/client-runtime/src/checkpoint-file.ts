import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicSync } from './slot.js';

export const defaultCheckpointFileName = 'tsmw_checkpoint';

export interface CheckpointFileOptions {
  readonly slotDir: string;
  /** Default `tsmw_checkpoint`. */
  readonly fileName?: string;
}

export interface CheckpointFile {
  readonly path: string;
  /** The last state written, or undefined when there is none (a first run). */
  read(): Promise<Uint8Array | undefined>;
  /** Replaces the state atomically (temporary file, fsync, rename, fsync of the slot). */
  write(state: Uint8Array): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A task's checkpoint state in its slot, which the client keeps when it stops and later restarts
 * the task. A crash during `write` leaves the previous state whole. Report the checkpoint to the
 * client afterwards (the status reporter's `checkpointCompleted()`), so it knows progress is safe.
 */
export function createCheckpointFile(options: CheckpointFileOptions): CheckpointFile {
  const path = join(options.slotDir, options.fileName ?? defaultCheckpointFileName);
  return {
    path,
    async read() {
      try {
        return new Uint8Array(await readFile(path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async write(state) {
      writeFileAtomicSync(path, state);
    },
    async remove() {
      await rm(path, { force: true });
    },
  };
}
