import type { ConsoleLine, TaskTiming } from '../wire/envelope.js';

/** The events a master emits, by name. */
export interface MasterEvents {
  'task-submitted': { readonly taskId: string; readonly taskName: string };
  'task-started': { readonly taskId: string; readonly taskName: string };
  'task-progress': { readonly taskId: string; readonly taskName: string; readonly fraction: number };
  'task-completed': {
    readonly taskId: string;
    readonly taskName: string;
    readonly output: unknown;
    readonly timing: TaskTiming;
    readonly console: readonly ConsoleLine[];
  };
  'task-failed': { readonly taskId: string; readonly taskName: string; readonly error: Error };
  'task-retried': { readonly taskId: string; readonly taskName: string; readonly attempt: number; readonly error: Error };
  'task-cancelled': { readonly taskId: string; readonly taskName: string };
}

export type MasterEventName = keyof MasterEvents;
export type MasterEventListener<Name extends MasterEventName> = (event: MasterEvents[Name]) => void;

/**
 * A small typed emitter; emitting costs nothing when nobody listens. A listener that throws is
 * a bug in the program, and it is not hidden: the error is thrown again outside the master, on
 * the next tick, as an uncaught exception (as Node treats an unhandled rejection), so an
 * `expect` in a listener fails its test and a program with a broken listener stops loudly.
 * The master's own state is never left half-changed by it.
 */
export class EventHub {
  private readonly listeners = new Map<MasterEventName, Set<(event: never) => void>>();

  on<Name extends MasterEventName>(name: Name, listener: MasterEventListener<Name>): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  has(name: MasterEventName): boolean {
    const set = this.listeners.get(name);
    return set !== undefined && set.size > 0;
  }

  emit<Name extends MasterEventName>(name: Name, event: MasterEvents[Name]): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as MasterEventListener<Name>)(event);
      } catch (error) {
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}
