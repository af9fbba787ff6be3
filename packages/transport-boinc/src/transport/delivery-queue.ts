import type { TransportEventV1 } from '@tsmw/core';

/**
 * The events of a transport, buffered until the master takes them (in batches), with a way for
 * producers to wait until the master has taken what is buffered: results are read from disk only
 * as fast as the master consumes them, so collecting 100,000 results keeps memory flat.
 */
export class DeliveryQueue implements AsyncIterable<readonly TransportEventV1[]> {
  private buffer: TransportEventV1[] = [];
  private waiter: (() => void) | undefined;
  private drainWaiters: Array<() => void> = [];
  private ended = false;
  private failure: Error | undefined;
  private iterating = false;

  get size(): number {
    return this.buffer.length;
  }

  push(event: TransportEventV1): void {
    if (this.ended) return;
    this.buffer.push(event);
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.();
  }

  /** Resolves once the buffer holds fewer than `below` events (or the queue ended). */
  async room(below = 1): Promise<void> {
    while (!this.ended && this.buffer.length >= below) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.();
    this.releaseDrainWaiters();
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<readonly TransportEventV1[]> {
    if (this.iterating) throw new Error('The events of a BOINC transport are read once');
    this.iterating = true;
    for (;;) {
      if (this.buffer.length > 0) {
        const batch = this.buffer;
        this.buffer = [];
        this.releaseDrainWaiters();
        yield batch;
        continue;
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      this.releaseDrainWaiters();
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}
