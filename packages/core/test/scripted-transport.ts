import {
  createEventQueue,
  decodeTaskEnvelope,
  encodeResultEnvelope,
  type RecoveredTaskV1,
  type SubmittedTaskV1,
  type TransportCapabilitiesV1,
  type TransportEventV1,
  type TransportStartOptionsV1,
  type TransportV1,
} from '@tsmw/core';

/** Resolves when `check()` holds, re-checked whenever the transport records something. No timers. */
type Waiter = { check: () => boolean; resolve: () => void };

/**
 * A transport double driven by the test: it records what the master hands over (submissions,
 * cancels, acknowledgements, the start options) and lets the test answer with results, losses
 * and failures in any order. `until(...)` waits for what the test needs, never for a time.
 */
export function createScriptedTransport(overrides: Partial<TransportCapabilitiesV1> = {}, recovered: RecoveredTaskV1[] = []) {
  const events = createEventQueue<TransportEventV1>();
  const submitted: SubmittedTaskV1[] = [];
  const cancelled: string[] = [];
  const acknowledged: string[] = [];
  const started: TransportStartOptionsV1[] = [];
  let waiters: Waiter[] = [];
  let submitGate: Promise<void> | undefined;
  let closed = false;
  let startResult: { taskModuleHash?: string } = {};
  const changed = (): void => {
    const still: Waiter[] = [];
    for (const waiter of waiters) (waiter.check() ? waiter.resolve() : still.push(waiter));
    waiters = still;
  };
  const transport: TransportV1 = {
    specificationVersion: 'v1',
    transportId: 'test.scripted',
    capabilities: {
      cancel: true,
      progress: true,
      durable: false,
      checkpoint: false,
      files: false,
      latency: 'interactive',
      maxEnvelopeBytes: 1024 * 1024,
      maxBatchSize: 4,
      maxInFlight: 1000,
      ...overrides,
    },
    async doStart(options) {
      started.push(options);
      return { recovered, ...startResult };
    },
    async doSubmit(tasks) {
      submitted.push(...tasks);
      changed();
      if (submitGate !== undefined) await submitGate;
    },
    async doCancel(ids) {
      cancelled.push(...ids);
      changed();
    },
    doReceive: () => events,
    async doAcknowledge(ids) {
      acknowledged.push(...ids);
      changed();
    },
    async doClose() {
      closed = true;
      events.end();
      changed();
    },
  };
  const result = (task: SubmittedTaskV1, outcome: { output: unknown } | { error: { name: string; message: string; retryable?: boolean } }): TransportEventV1 => {
    const envelope = decodeTaskEnvelope(task.envelope);
    const common = { kind: 'tsmw-result', version: 1, taskId: envelope.taskId, attempt: envelope.attempt, timing: { startedAt: 0, wallMs: 1, cpuMs: 1 } } as const;
    return {
      type: 'task-result',
      taskId: task.taskId,
      bytes: encodeResultEnvelope('output' in outcome ? { ...common, ok: true, output: outcome.output } : { ...common, ok: false, error: outcome.error }),
    };
  };
  return {
    transport,
    events,
    submitted,
    cancelled,
    acknowledged,
    started,
    answer(task: SubmittedTaskV1, output: unknown): void {
      events.push(result(task, { output }));
    },
    fail(task: SubmittedTaskV1, error: { name: string; message: string; retryable?: boolean }): void {
      events.push(result(task, { error }));
    },
    gate(promise: Promise<void> | undefined): void {
      submitGate = promise;
    },
    /** What `doStart` answers beside `recovered`. */
    startWith(value: { taskModuleHash?: string }): void {
      startResult = value;
    },
    /** Waits until `check()` holds (checked now and after every recorded call). */
    until(check: () => boolean): Promise<void> {
      if (check()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ check, resolve }));
    },
    get closed(): boolean {
      return closed;
    },
  };
}

export type ScriptedTransport = ReturnType<typeof createScriptedTransport>;

/** One turn of the event loop: lets queued callbacks and microtasks run (not a timed wait). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
