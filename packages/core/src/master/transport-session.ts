import { TransportError } from '../errors/transport-error.js';
import { TsmwError } from '../errors/tsmw-error.js';
import type { SubmittedTaskV1, Transport, TransportEventV1 } from '../transport/transport-v1.js';
import type { SubmissionQueue } from './submission-queue.js';
import type { TaskRecord } from './task-record.js';
import type { TaskTable } from './task-table.js';

/** How long a batch transport's master gathers submissions before handing them over in one `doSubmit`. */
export const BATCH_GATHER_MS = 100;

/** What the session asks of the master. */
export interface SessionHost {
  /** Gets the task ready to leave (its deadline and envelope for this attempt); false if it cannot go (it was settled). */
  prepareDispatch(record: TaskRecord): boolean;
  /** A handed-over batch was refused: each task's attempt failed with this error. */
  dispatchFailed(record: TaskRecord, error: TsmwError): void;
  /** One batch of transport events. */
  handleEvents(events: readonly TransportEventV1[]): void;
  /** The event stream ended (without `error`: before the master closed; with it: it failed). */
  transportEnded(error: TsmwError): void;
  /** A transport call in the background (cancel, acknowledge) failed: reported, not thrown. */
  warn(message: string): void;
}

/**
 * The master's side of one transport: hands queued tasks over in batches (within the
 * transport's `maxBatchSize` and `maxInFlight`), batches cancels and acknowledgements, and
 * reads the event stream. Interactive transports get tasks at the end of the current turn; a
 * batch transport's tasks are gathered for `BATCH_GATHER_MS` (or until a full batch waits), so
 * a BOINC batch is created in few large chunks.
 */
export class TransportSession {
  /** Cancelled at a transport that cannot cancel: they hold their in-flight place until they end. */
  private readonly abandoned = new Set<string>();
  private dispatching = false;
  /** The `doSubmit` call in progress: `doClose` never overtakes it. */
  private submitting: Promise<void> | undefined;
  /** The dispatch loop in progress. */
  private dispatchRun: Promise<void> | undefined;
  private dispatchScheduled = false;
  private gatherTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private pendingCancels: string[] = [];
  private pendingAcknowledgements: string[] = [];
  readonly receiving: Promise<void>;
  private readonly batchLatency: boolean;

  constructor(
    private readonly transport: Transport,
    private readonly table: TaskTable,
    private readonly queue: SubmissionQueue,
    private readonly host: SessionHost,
    private readonly maxInFlight: number,
    private readonly maxBatchSize: number,
    private readonly isClosed: () => boolean,
  ) {
    this.batchLatency = transport.capabilities.latency === 'batch';
    this.receiving = this.receive();
  }

  /** In flight as the transport counts them: the table's plus abandoned ones. */
  get inFlight(): number {
    return this.table.counts.inFlight + this.abandoned.size;
  }

  /** Dispatches soon: at the end of this turn, or after the gathering window of a batch transport. */
  scheduleDispatch(): void {
    if (this.dispatchScheduled || this.dispatching || this.stopped) return;
    if (this.batchLatency && this.table.counts.queued < this.maxBatchSize && !this.isClosed()) {
      if (this.gatherTimer === undefined) {
        this.gatherTimer = setTimeout(() => {
          this.gatherTimer = undefined;
          void this.dispatch();
        }, BATCH_GATHER_MS);
      }
      return;
    }
    this.dispatchScheduled = true;
    queueMicrotask(() => {
      this.dispatchScheduled = false;
      void this.dispatch();
    });
  }

  /** No more dispatching (a forced close); timers go. */
  stop(): void {
    this.stopped = true;
    if (this.gatherTimer !== undefined) clearTimeout(this.gatherTimer);
    this.gatherTimer = undefined;
  }

  /**
   * Hands over everything queued now (room permitting), without waiting for the gathering
   * window, and resolves once the transport has it: a durable master that stops leaves nothing
   * of its batch behind in its own queue.
   */
  async flush(): Promise<void> {
    while (this.dispatchRun !== undefined) await this.dispatchRun;
    await this.dispatch();
  }

  private dispatch(): Promise<void> {
    if (this.dispatching) return this.dispatchRun ?? Promise.resolve();
    this.dispatchRun = this.dispatchAll().finally(() => {
      this.dispatchRun = undefined;
    });
    return this.dispatchRun;
  }

  private async dispatchAll(): Promise<void> {
    if (this.dispatching) return;
    if (this.gatherTimer !== undefined) {
      clearTimeout(this.gatherTimer);
      this.gatherTimer = undefined;
    }
    this.dispatching = true;
    try {
      const counts = this.table.counts;
      while (!this.stopped && counts.queued > 0 && this.inFlight < this.maxInFlight) {
        const room = Math.min(this.maxInFlight - this.inFlight, this.maxBatchSize);
        const batch: SubmittedTaskV1[] = [];
        const records: TaskRecord[] = [];
        while (batch.length < room) {
          const record = this.queue.takeNext();
          if (record === undefined) break;
          if (!this.host.prepareDispatch(record)) continue;
          this.table.transition(record, 'dispatch');
          records.push(record);
          batch.push(toSubmitted(record));
        }
        this.queue.releaseSpace(counts.queued);
        if (batch.length === 0) break;
        try {
          this.submitting = this.transport.doSubmit(batch);
          await this.submitting;
          // The transport has the bytes now; a retry encodes its own attempt (from the input, or
          // from these bytes when they are all the master keeps of it).
          for (let index = 0; index < records.length; index += 1) {
            const record = records[index]!;
            if (!record.inputInEnvelope && record.holdsEnvelope(batch[index]!.envelope)) record.envelope = undefined;
          }
        } catch (error) {
          const failure = TsmwError.isInstance(error)
            ? error
            : new TransportError(`The transport ${this.transport.transportId} refused a batch: ${(error as Error)?.message}`, { cause: error, retryable: true });
          for (const record of records) if (record.settlement === undefined && record.state !== 'queued') this.host.dispatchFailed(record, failure);
        } finally {
          this.submitting = undefined;
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** Asks the transport to stop a task that is in flight (batched per turn). */
  cancel(record: TaskRecord): void {
    if (!this.transport.capabilities.cancel) {
      this.abandoned.add(record.id);
      return;
    }
    if (this.pendingCancels.push(record.id) > 1) return;
    queueMicrotask(() => {
      const ids = this.pendingCancels;
      this.pendingCancels = [];
      this.transport.doCancel(ids).catch((error: unknown) => {
        this.host.warn(`The transport ${this.transport.transportId} could not cancel ${ids.length} tasks: ${(error as Error)?.message}`);
      });
    });
  }

  /** Tells a durable transport that the user has this task's result (batched per turn). */
  acknowledge(record: TaskRecord): void {
    const acknowledge = this.transport.doAcknowledge;
    if (acknowledge === undefined || record.acknowledged) return;
    record.acknowledged = true;
    if (this.pendingAcknowledgements.push(record.id) > 1) return;
    queueMicrotask(() => {
      const ids = this.pendingAcknowledgements;
      this.pendingAcknowledgements = [];
      acknowledge.call(this.transport, ids).catch((error: unknown) => {
        this.host.warn(`The transport ${this.transport.transportId} could not acknowledge ${ids.length} results (they will be delivered again to the next master): ${(error as Error)?.message}`);
      });
    });
  }

  /** An event for an abandoned task frees its in-flight place. */
  release(taskId: string): void {
    // Checked for size first: a lookup hashes the id, which nothing else does on a task's way.
    if (this.abandoned.size > 0 && this.abandoned.delete(taskId)) this.scheduleDispatch();
  }

  async close(force: boolean): Promise<void> {
    this.stop();
    // A batch being handed over is finished first: the transport then knows every task it was given.
    await this.submitting?.catch(() => undefined);
    await this.transport.doClose({ force });
    await this.receiving;
  }

  private async receive(): Promise<void> {
    try {
      for await (const events of this.transport.doReceive()) this.host.handleEvents(events);
      if (!this.isClosed()) this.host.transportEnded(new TransportError(`The transport ${this.transport.transportId} stopped sending results`));
    } catch (error) {
      this.host.transportEnded(
        TsmwError.isInstance(error) ? error : new TransportError(`The transport ${this.transport.transportId} failed: ${(error as Error)?.message}`, { cause: error }),
      );
    }
  }
}

function toSubmitted(record: TaskRecord): SubmittedTaskV1 {
  const submitted: { -readonly [Key in keyof SubmittedTaskV1]: SubmittedTaskV1[Key] } = {
    taskId: record.id,
    taskName: record.taskName,
    attempt: record.attempt,
    envelope: record.envelope!,
    files: record.files,
  };
  if (record.deadline !== undefined) submitted.deadline = record.deadline;
  if (record.key !== undefined) submitted.key = record.key;
  if (record.inputHash !== undefined) submitted.inputHash = record.inputHash;
  const hints = record.options.hints;
  if (hints !== undefined) submitted.hints = hints;
  return submitted;
}
