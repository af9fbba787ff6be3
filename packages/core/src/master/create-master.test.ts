import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createEventQueue,
  createMaster,
  decodeTaskEnvelope,
  encodeResultEnvelope,
  MasterClosedError,
  TaskFailedError,
  TransportError,
  WorkerCrashedError,
  type SubmittedTaskV1,
  type TransportCapabilitiesV1,
  type TransportEventV1,
  type TransportV1,
} from '@tsmw/core';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);
import { add, echo } from '../../test/fixtures/master-tasks.js';

/**
 * A transport double driven by the test: it records what the master hands over and lets the
 * test answer with results, losses and failures in any order.
 */
function createScriptedTransport(overrides: Partial<TransportCapabilitiesV1> = {}, recovered: Array<{ taskId: string; taskName: string; attempt: number; submittedAt: number }> = []) {
  const events = createEventQueue<TransportEventV1>();
  const submitted: SubmittedTaskV1[] = [];
  const cancelled: string[] = [];
  const acknowledged: string[] = [];
  let submitGate: Promise<void> | undefined;
  let closed = false;
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
    async doStart() {
      return { recovered };
    },
    async doSubmit(tasks) {
      submitted.push(...tasks);
      if (submitGate !== undefined) await submitGate;
    },
    async doCancel(ids) {
      cancelled.push(...ids);
    },
    doReceive: () => events,
    async doAcknowledge(ids) {
      acknowledged.push(...ids);
    },
    async doClose() {
      closed = true;
      events.end();
    },
  };
  const answer = (task: SubmittedTaskV1, output: unknown): void => {
    const envelope = decodeTaskEnvelope(task.envelope);
    events.push({
      type: 'task-result',
      taskId: task.taskId,
      bytes: encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: envelope.taskId, attempt: envelope.attempt, ok: true, output, timing: { startedAt: 0, wallMs: 1, cpuMs: 1 } }),
    });
  };
  return {
    transport,
    events,
    submitted,
    cancelled,
    acknowledged,
    answer,
    gate(promise: Promise<void> | undefined) {
      submitGate = promise;
    },
    get closed() {
      return closed;
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('createMaster', () => {
  it('types inputs and outputs from the task definition', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const handle = await master.submit(add, { a: 1, b: 2 });
    expectTypeOf<(typeof handle)['result']>().toEqualTypeOf<Promise<number>>(); // (reading `result` would claim the task)
    // @ts-expect-error: the input of `add` is { a: number; b: number }
    await master.submit(add, { a: 'one', b: 2 }).catch(() => undefined);
    // @ts-expect-error: a missing field is a type error too
    await master.submit(add, { a: 1 }).catch(() => undefined);
    expectTypeOf<ReturnType<typeof master.map<typeof add>>>().toEqualTypeOf<Promise<number[]>>();
    await master.close({ force: true });
  });

  it('hands envelopes over in batches no larger than the transport asks', async () => {
    const scripted = createScriptedTransport({ maxBatchSize: 4 });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const handles = await Promise.all(Array.from({ length: 10 }, (_, index) => master.submit(add, { a: index, b: 0 })));
    await tick();
    expect(scripted.submitted).toHaveLength(10);
    const envelope = decodeTaskEnvelope(scripted.submitted[3]!.envelope);
    expect(envelope).toMatchObject({ taskName: 'add', attempt: 1, input: { a: 3, b: 0 }, moduleHash: master.moduleHash });
    for (const task of scripted.submitted) scripted.answer(task, decodeTaskEnvelope(task.envelope).input);
    expect((await handles[7]!.result) as unknown).toEqual({ a: 7, b: 0 });
    await master.close();
  });

  it('runs a task again after a retryable loss, with the next attempt number', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, retries: 1 });
    const retried: number[] = [];
    master.on('task-retried', (event) => retried.push(event.attempt));
    const handle = await master.submit(echo, 'again');
    await tick();
    scripted.events.push({ type: 'task-lost', taskId: handle.id, error: new WorkerCrashedError(handle.id, 'exit code 1') });
    await tick();
    expect(scripted.submitted).toHaveLength(2);
    expect(scripted.submitted[1]!.attempt).toBe(2);
    expect(decodeTaskEnvelope(scripted.submitted[1]!.envelope).attempt).toBe(2);
    // A late result of the first attempt is ignored.
    scripted.events.push({
      type: 'task-result',
      taskId: handle.id,
      bytes: encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: handle.id, attempt: 1, ok: true, output: 'stale', timing: { startedAt: 0, wallMs: 0, cpuMs: 0 } }),
    });
    scripted.answer(scripted.submitted[1]!, 'fresh');
    expect(await handle.result).toBe('fresh');
    expect(retried).toEqual([2]);
    expect(master.stats().retried).toBe(1);
    await master.close();
  });

  it('fails with the crash error once the retries are used up', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, retries: 0 });
    const handle = await master.submit(echo, 1);
    await tick();
    scripted.events.push({ type: 'task-lost', taskId: handle.id, error: new WorkerCrashedError(handle.id, 'out of memory') });
    await expect(handle.result).rejects.toSatisfy((error: unknown) => WorkerCrashedError.isInstance(error) && error.isRetryable);
    await master.close();
  });

  it('a result envelope that does not decode fails its task with the decode error', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const handle = await master.submit(echo, 1);
    await tick();
    scripted.events.push({ type: 'task-result', taskId: handle.id, bytes: new Uint8Array([0xc1, 0x00]) });
    await expect(handle.result).rejects.toMatchObject({ code: 'TSMW_ENVELOPE_DECODE' });
    await master.close();
  });

  it('submit waits once maxQueued tasks wait, and goes on when there is room', async () => {
    const scripted = createScriptedTransport({ maxInFlight: 2 });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, maxQueued: 2 });
    const first = await Promise.all([1, 2, 3, 4].map((value) => master.submit(echo, value)));
    await tick();
    expect(master.stats()).toMatchObject({ running: 2, queued: 2 });
    let fifthQueued = false;
    const fifth = master.submit(echo, 5).then((handle) => {
      fifthQueued = true;
      return handle;
    });
    await tick();
    expect(fifthQueued).toBe(false);
    scripted.answer(scripted.submitted[0]!, 1);
    await tick();
    expect(fifthQueued).toBe(true);
    for (const handle of first) handle.cancel();
    (await fifth).cancel();
    await master.close();
  });

  it('a transport that cannot cancel keeps a cancelled task in flight until it ends', async () => {
    const scripted = createScriptedTransport({ cancel: false, maxInFlight: 1 });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const running = await master.submit(echo, 'a');
    const waiting = await master.submit(echo, 'b');
    await tick();
    running.cancel();
    await expect(running.result).rejects.toMatchObject({ code: 'TSMW_TASK_CANCELLED' });
    await tick();
    expect(scripted.cancelled).toEqual([]);
    expect(scripted.submitted.map((task) => task.taskId)).toEqual([running.id]);
    scripted.answer(scripted.submitted[0]!, 'a'); // the abandoned task ends: its place is free
    await tick();
    expect(scripted.submitted.map((task) => task.taskId)).toEqual([running.id, waiting.id]);
    scripted.answer(scripted.submitted[1]!, 'b');
    expect(await waiting.result).toBe('b');
    await master.close();
  });

  it('durable transports: recovered tasks come back as handles, and results are acknowledged', async () => {
    const scripted = createScriptedTransport({ durable: true }, [{ taskId: 'old-1', taskName: 'add', attempt: 1, submittedAt: 1 }]);
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, batch: 'recovery' });
    expect(master.recovered.map((handle) => handle.id)).toEqual(['old-1']);
    scripted.events.push({
      type: 'task-result',
      taskId: 'old-1',
      bytes: encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: 'old-1', attempt: 1, ok: true, output: 99, timing: { startedAt: 0, wallMs: 0, cpuMs: 0 } }),
    });
    const settled = [];
    for await (const done of master.results()) settled.push(done);
    expect(settled).toMatchObject([{ id: 'old-1', status: 'completed', output: 99 }]);
    await tick();
    expect(scripted.acknowledged).toEqual(['old-1']);
    await master.close({ force: true });
  });

  it('a transport whose stream fails fails the open tasks with a TransportError', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const handle = await master.submit(echo, 1);
    await tick();
    scripted.events.end(new Error('connection reset'));
    await expect(handle.result).rejects.toSatisfy((error: unknown) => TransportError.isInstance(error));
    await master.close({ force: true });
  });

  it('refuses a transport of another contract version, and a module without tasks', async () => {
    const scripted = createScriptedTransport();
    await expect(createMaster({ transport: { ...scripted.transport, specificationVersion: 'v2' } as unknown as TransportV1, tasks: tasksUrl })).rejects.toMatchObject({
      code: 'TSMW_INVALID_ARGUMENT',
    });
    await expect(createMaster({ transport: scripted.transport, tasks: new URL('../../package.json', import.meta.url) })).rejects.toMatchObject({ code: 'TSMW_INVALID_ARGUMENT' });
    await expect(createMaster({ transport: scripted.transport, tasks: '/nonexistent/tasks.js' })).rejects.toMatchObject({ code: 'TSMW_INVALID_ARGUMENT' });
  });

  it('close({ force }) rejects waiting submissions and open tasks; Symbol.asyncDispose closes', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const handle = await master.submit(echo, 1);
    await master[Symbol.asyncDispose]();
    await expect(handle.result).rejects.toMatchObject({ code: 'TSMW_TASK_CANCELLED' });
    await expect(master.submit(echo, 2)).rejects.toSatisfy((error: unknown) => MasterClosedError.isInstance(error));
    expect(scripted.closed).toBe(true);
  });

  it('an unread failure is not an unhandled rejection', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const handle = await master.submit(echo, 1);
    await tick();
    scripted.events.push({
      type: 'task-result',
      taskId: handle.id,
      bytes: encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: handle.id, attempt: 1, ok: false, error: { name: 'Error', message: 'nobody reads me' }, timing: { startedAt: 0, wallMs: 0, cpuMs: 0 } }),
    });
    await tick();
    await tick();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    const settled = [];
    for await (const done of master.results()) settled.push(done);
    expect(settled[0]?.status).toBe('failed');
    expect(TaskFailedError.isInstance((settled[0] as { error: unknown }).error)).toBe(true);
    await master.close();
  });
});
