/**
 * A helper for transport authors: an unbounded queue of events that `doReceive` can return.
 * `push` never blocks; the consumer gets everything buffered since its last turn as one array,
 * so a burst of results costs one await, not one per result.
 */
export interface EventQueue<Event> extends AsyncIterable<readonly Event[]> {
  push(event: Event): void;
  /** Ends the iteration (after what is buffered); with an error, the iteration throws it. */
  end(error?: Error): void;
  readonly ended: boolean;
}

export function createEventQueue<Event>(): EventQueue<Event> {
  let buffer: Event[] = [];
  let waiter: (() => void) | undefined;
  let ended = false;
  let failure: Error | undefined;
  let iterating = false;
  const wake = (): void => {
    const resolve = waiter;
    waiter = undefined;
    resolve?.();
  };
  return {
    push(event: Event): void {
      if (ended) return;
      buffer.push(event);
      if (waiter !== undefined) wake();
    },
    end(error?: Error): void {
      if (ended) return;
      ended = true;
      failure = error;
      wake();
    },
    get ended(): boolean {
      return ended;
    },
    async *[Symbol.asyncIterator](): AsyncIterator<readonly Event[]> {
      if (iterating) throw new Error('This event queue is already being read');
      iterating = true;
      for (;;) {
        if (buffer.length > 0) {
          const batch = buffer;
          buffer = [];
          yield batch;
          continue;
        }
        if (ended) {
          if (failure !== undefined) throw failure;
          return;
        }
        await new Promise<void>((resolve) => (waiter = resolve));
      }
    },
  };
}
