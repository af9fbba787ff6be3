import type { TaskFileV1 } from '../transport/transport-v1.js';
import type { ConsoleLine, TaskTiming } from '../wire/envelope.js';
import type { QueuedTask, SettledTask, SubmitOptions, TaskHandle, TaskStatus } from './task-handle.js';
import type { TaskState } from './task-states.js';

/** How a task ended, as the master keeps it. */
export type Settlement =
  | { readonly ok: true; readonly output: unknown; readonly console: readonly ConsoleLine[]; readonly timing: TaskTiming }
  | {
      readonly ok: false;
      readonly error: Error;
      /**
       * The transport said so (a result, a final loss): on a durable transport such an end is
       * acknowledged once handed to the user. A time-out, a close or a failed stream is the
       * master's own view, never acknowledged: the next master sees the task again.
       */
      readonly fromTransport: boolean;
    };

/** Who holds a task: `submit` (the user's handle), `map` (internal to a map), `recovered` (an earlier master's, not yet attached). */
export type TaskOwner = 'submit' | 'map' | 'recovered';

/** What a record needs from its master. */
export interface TaskRecordHost {
  cancelRecord(record: TaskRecord): void;
  claimRecord(record: TaskRecord): void;
}

const emptyOptions: SubmitOptions = Object.freeze({});
const noFiles: readonly TaskFileV1[] = Object.freeze([]);
/** Submission times are kept as offsets from this (see `submittedOffset`). */
const epoch = Date.now();

/**
 * The master's record of one task; it is also the handle users hold. Its state is changed only
 * by the task table (`task-table.ts`), through the transitions of `task-states.ts`. Its result
 * promise is made only when `result` is read, so an unread failure is never an unhandled
 * rejection.
 * @internal
 */
/** The record's yes/no facts, as bits of one number (a field each made every record 32 bytes larger). */
const CLAIMED = 1;
const HANDED_OVER = 2;
const HAS_INPUT = 4;
const ACKNOWLEDGED = 8;
const AWAITING_COLLECTION = 16;
const INDEXED = 32;
const INPUT_IN_ENVELOPE = 64;

/** What few records need: kept out of the record itself, which every task has. */
interface RecordExtra {
  options: SubmitOptions;
  files: readonly TaskFileV1[];
  key: string | undefined;
  inputHash: string | undefined;
  deadline: number | undefined;
  heapIndex: number;
  queuedView: QueuedTask | undefined;
  moreSettleListeners: Array<(record: TaskRecord) => void> | undefined;
}

/**
 * The master's record of one task; it is also the handle users hold. Its state is changed only
 * by the task table (`task-table.ts`), through the transitions of `task-states.ts`. Its result
 * promise is made only when `result` is read, so an unread failure is never an unhandled
 * rejection.
 *
 * A master holds one per open task (100,000 submitted at once: 100,000 records, each copied
 * by the young-generation collector before it settles), so it keeps only what every task needs
 * as fields: yes/no facts are bits of `flags`, and what few tasks have (options, data files, a
 * key, a deadline, a schedule hook's view) lives in `extra`, made when first set.
 * @internal
 */
export class TaskRecord implements TaskHandle<unknown> {
  state: TaskState = 'queued';
  attempt = 1;
  /**
   * The encoded envelope of the current attempt, while the task is queued or in flight: where
   * its bytes are (a view made when asked for, as a view kept per queued task cost 96 bytes more).
   */
  private envelopeBuffer: ArrayBufferLike | undefined;
  private envelopeOffset = 0;
  private envelopeLength = 0;
  /** Where the input lies in the envelope (see `inputInEnvelope`), or -1 when it has none. */
  inputStart = -1;
  inputEnd = -1;
  settlement: Settlement | undefined;
  owner: TaskOwner = 'submit';
  private flags = 0;
  private extra: RecordExtra | undefined;
  /** Settles the promise `result` made, if it was read before the task settled. */
  private resolveResult: ((settlement: Settlement) => void) | undefined;
  private settleListener: ((record: TaskRecord) => void) | undefined;
  private promise: Promise<unknown> | undefined;
  /** Milliseconds from `epoch` (a small integer the engine keeps in the field, where a date would take a box of its own). */
  private readonly submittedOffset: number;

  constructor(
    private readonly host: TaskRecordHost,
    readonly id: string,
    readonly taskName: string,
    public input: unknown,
    submittedAt: number,
    options: SubmitOptions = emptyOptions,
    files: readonly TaskFileV1[] = noFiles,
    public retries = 0,
    key: string | undefined = undefined,
    inputHash: string | undefined = undefined,
  ) {
    this.submittedOffset = submittedAt - epoch;
    // Of the options, the record reads only these three (the others were applied by the master).
    if (options.timeoutMs !== undefined || options.signal !== undefined || options.hints !== undefined || files.length > 0 || key !== undefined || inputHash !== undefined) {
      const extra = this.more();
      extra.options = options;
      extra.files = files;
      extra.key = key;
      extra.inputHash = inputHash;
    }
  }

  private more(): RecordExtra {
    return (this.extra ??= {
      options: emptyOptions,
      files: noFiles,
      key: undefined,
      inputHash: undefined,
      deadline: undefined,
      heapIndex: -1,
      queuedView: undefined,
      moreSettleListeners: undefined,
    });
  }

  get envelope(): Uint8Array | undefined {
    const buffer = this.envelopeBuffer;
    return buffer === undefined ? undefined : new Uint8Array(buffer, this.envelopeOffset, this.envelopeLength);
  }

  set envelope(envelope: Uint8Array | undefined) {
    if (envelope === undefined) this.envelopeBuffer = undefined;
    else {
      this.envelopeBuffer = envelope.buffer;
      this.envelopeOffset = envelope.byteOffset;
      this.envelopeLength = envelope.byteLength;
    }
  }

  /** The input's bytes in the current envelope (see `inputInEnvelope`), or undefined when it has no input. */
  inputBytes(): Uint8Array | undefined {
    const buffer = this.envelopeBuffer;
    if (buffer === undefined || this.inputStart < 0) return undefined;
    return new Uint8Array(buffer, this.envelopeOffset + this.inputStart, this.inputEnd - this.inputStart);
  }

  /** Whether `envelope` holds the bytes of this record's current envelope (and not those of a later attempt's). */
  holdsEnvelope(envelope: Uint8Array): boolean {
    return this.envelopeBuffer === envelope.buffer && this.envelopeOffset === envelope.byteOffset && this.envelopeLength === envelope.byteLength;
  }

  get submittedAt(): number {
    return epoch + this.submittedOffset;
  }

  get options(): SubmitOptions {
    return this.extra?.options ?? emptyOptions;
  }

  get files(): readonly TaskFileV1[] {
    return this.extra?.files ?? noFiles;
  }

  set files(files: readonly TaskFileV1[]) {
    if (files.length > 0 || this.extra !== undefined) this.more().files = files;
  }

  get key(): string | undefined {
    return this.extra?.key;
  }

  get inputHash(): string | undefined {
    return this.extra?.inputHash;
  }

  set inputHash(inputHash: string | undefined) {
    if (inputHash !== undefined || this.extra !== undefined) this.more().inputHash = inputHash;
  }

  /** When the master gives up on the task (epoch ms), once known. */
  get deadline(): number | undefined {
    return this.extra?.deadline;
  }

  set deadline(deadline: number | undefined) {
    if (deadline !== undefined || this.extra !== undefined) this.more().deadline = deadline;
  }

  /** Its place in the deadline heap, or -1. */
  get heapIndex(): number {
    return this.extra?.heapIndex ?? -1;
  }

  set heapIndex(index: number) {
    if (index !== -1 || this.extra !== undefined) this.more().heapIndex = index;
  }

  /** Taken by someone (its `result` read, a `map`, `results()`): `results()` no longer yields it. */
  get claimed(): boolean {
    return (this.flags & CLAIMED) !== 0;
  }

  set claimed(value: boolean) {
    this.flags = value ? this.flags | CLAIMED : this.flags & ~CLAIMED;
  }

  /** Its outcome is in the user's hands (or will be once settled): a durable transport may stop keeping it. */
  get handedOver(): boolean {
    return (this.flags & HANDED_OVER) !== 0;
  }

  set handedOver(value: boolean) {
    this.flags = value ? this.flags | HANDED_OVER : this.flags & ~HANDED_OVER;
  }

  /** The input is known (false for a recovered task until a submission attaches to it). */
  get hasInput(): boolean {
    return (this.flags & HAS_INPUT) !== 0;
  }

  set hasInput(value: boolean) {
    this.flags = value ? this.flags | HAS_INPUT : this.flags & ~HAS_INPUT;
  }

  /** Told to the durable transport as handed over. */
  get acknowledged(): boolean {
    return (this.flags & ACKNOWLEDGED) !== 0;
  }

  set acknowledged(value: boolean) {
    this.flags = value ? this.flags | ACKNOWLEDGED : this.flags & ~ACKNOWLEDGED;
  }

  /** In the task table's index by id (see `TaskTable`). */
  get indexed(): boolean {
    return (this.flags & INDEXED) !== 0;
  }

  set indexed(value: boolean) {
    this.flags = value ? this.flags | INDEXED : this.flags & ~INDEXED;
  }

  /**
   * The input object was let go once encoded: its bytes in the envelope (kept until the task
   * settles) are what another attempt or deadline is encoded from. A master holding 100,000
   * queued tasks then holds their inputs once, as bytes, and not also as objects.
   */
  get inputInEnvelope(): boolean {
    return (this.flags & INPUT_IN_ENVELOPE) !== 0;
  }

  set inputInEnvelope(value: boolean) {
    this.flags = value ? this.flags | INPUT_IN_ENVELOPE : this.flags & ~INPUT_IN_ENVELOPE;
  }

  /** In the table's queue of settled, unclaimed tasks for `results()`. */
  get awaitingCollection(): boolean {
    return (this.flags & AWAITING_COLLECTION) !== 0;
  }

  set awaitingCollection(value: boolean) {
    this.flags = value ? this.flags | AWAITING_COLLECTION : this.flags & ~AWAITING_COLLECTION;
  }

  get status(): TaskStatus {
    return this.state;
  }

  get settled(): boolean {
    return this.settlement !== undefined;
  }

  get result(): Promise<unknown> {
    if (!this.claimed) this.host.claimRecord(this);
    return (this.promise ??= this.makeResult());
  }

  /**
   * The output, or the error thrown from a promise reaction: V8's async stack traces then show,
   * in a failure's stack, the user's code that awaits the result, not the master's internals.
   * (A plain promise and one reaction: cheaper than an async function per task.)
   */
  private makeResult(): Promise<unknown> {
    const settlement = this.settlement;
    if (settlement?.ok === true) return Promise.resolve(settlement.output);
    const settled = settlement === undefined ? new Promise<Settlement>((resolve) => (this.resolveResult = resolve)) : Promise.resolve(settlement);
    return settled.then(outputOrThrow);
  }

  cancel(): void {
    this.host.cancelRecord(this);
  }

  /** Calls `listener` once when the task settles (at once if it already has). */
  whenSettled(listener: (record: TaskRecord) => void): void {
    if (this.settlement !== undefined) listener(this);
    else if (this.settleListener === undefined) this.settleListener = listener;
    else (this.more().moreSettleListeners ??= []).push(listener);
  }

  /** Records the end; called by the task table only, after the state changed. */
  settle(settlement: Settlement): void {
    this.settlement = settlement;
    this.input = undefined;
    this.envelope = undefined;
    const extra = this.extra;
    if (extra !== undefined) extra.queuedView = undefined;
    const resolveResult = this.resolveResult;
    this.resolveResult = undefined;
    resolveResult?.(settlement);
    const listener = this.settleListener;
    const more = extra?.moreSettleListeners;
    this.settleListener = undefined;
    if (extra !== undefined) extra.moreSettleListeners = undefined;
    listener?.(this);
    if (more !== undefined) for (const other of more) other(this);
  }

  /** What a `schedule` hook sees: a frozen view, made once per attempt. */
  view(): QueuedTask {
    const extra = this.more();
    const view = extra.queuedView;
    if (view !== undefined && view.attempt === this.attempt) return view;
    return (extra.queuedView = Object.freeze({
      id: this.id,
      taskName: this.taskName,
      key: this.key,
      input: this.input,
      attempt: this.attempt,
      submittedAt: this.submittedAt,
    }));
  }

  toSettledTask(): SettledTask<unknown> {
    const settlement = this.settlement;
    if (settlement === undefined) throw new Error('toSettledTask called on an open task');
    if (settlement.ok) {
      return {
        status: 'completed',
        handle: this,
        id: this.id,
        taskName: this.taskName,
        output: settlement.output,
        console: settlement.console,
        timing: settlement.timing,
      };
    }
    return { status: this.state === 'cancelled' ? 'cancelled' : 'failed', handle: this, id: this.id, taskName: this.taskName, error: settlement.error };
  }
}

/** A settlement's output, or its error thrown with the stack of the code that awaits it. */
function outputOrThrow(settlement: Settlement): unknown {
  if (settlement.ok) return settlement.output;
  throw atAwaitSite(settlement.error, outputOrThrow);
}

/**
 * Gives an error the stack of the code that awaits it now (the frames above `below` are left
 * out). The message, name, cause and fields stay; only the master-internal frames go.
 */
export function atAwaitSite<E extends Error>(error: E, below: Function): E {
  if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(error, below);
  return error;
}
