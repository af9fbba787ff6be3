/**
 * The running marker (see `RunningMarkerLocation` in protocol.ts): which task a worker was
 * running when it died. Results are sent in batches, so a dead worker may have finished tasks
 * whose results never left it; the marker tells the one it was running (lost: the master retries
 * it) from those (queued again, as if never run).
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningMarkerLocation } from './protocol.js';

/** The pool's side: where the worker writes, and how to read it after the worker died. */
export interface RunningMarker {
  readonly location: RunningMarkerLocation;
  /** The sequence of the task the worker was running, -1 if none, or undefined if unknown. */
  read(): number | undefined;
  /** Removes the marker's file, if it has one. */
  dispose(): void;
}

const NOT_RUNNING = -1;
let counter = 0;

export function createSharedRunningMarker(): RunningMarker {
  const buffer = new SharedArrayBuffer(8);
  const view = new Float64Array(buffer);
  view[0] = NOT_RUNNING;
  return {
    location: { kind: 'shared', buffer },
    read: () => view[0],
    dispose: () => {},
  };
}

export function createFileRunningMarker(): RunningMarker {
  // Memory-backed where the system has it: the marker is written twice per task.
  const directory = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = join(directory, `tsmw-local-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}.marker`);
  return {
    location: { kind: 'file', path },
    read() {
      try {
        const bytes = readFileSync(path);
        if (bytes.byteLength < 8) return NOT_RUNNING;
        return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 8))[0];
      } catch {
        return undefined;
      }
    },
    dispose() {
      rmSync(path, { force: true });
    },
  };
}

/** The worker's side: a function that records the running task (or -1). */
export function openRunningMarker(location: RunningMarkerLocation): (sequence: number) => void {
  if (location.kind === 'shared') {
    const view = new Float64Array(location.buffer);
    return (sequence) => {
      view[0] = sequence;
    };
  }
  let descriptor: number | undefined;
  try {
    descriptor = openSync(location.path, 'w');
  } catch {
    return () => {}; // the pool then falls back to blaming the first task the worker held
  }
  const value = new Float64Array(1);
  const bytes = new Uint8Array(value.buffer);
  process.once('exit', () => closeSync(descriptor));
  return (sequence) => {
    value[0] = sequence;
    writeSync(descriptor, bytes, 0, 8, 0);
  };
}
