import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createMaster,
  decodeTaskEnvelope,
  encodeTaskEnvelope,
  InvalidArgumentError,
  MasterClosedError,
  TaskKeyConflictError,
  TaskTimedOutError,
  TransportError,
  type TaskHandle,
} from '@tsmw/core';
import { add, echo, now } from '../../test/fixtures/master-tasks.js';
import { createScriptedTransport, turn } from '../../test/scripted-transport.js';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);
const hash = (character: string): string => character.repeat(64);

describe('a master on a batch transport', () => {
  it('gives the transport its batch name; a durable transport needs one, and a bad name is refused', async () => {
    const durable = createScriptedTransport({ durable: true });
    await expect(createMaster({ transport: durable.transport, tasks: tasksUrl })).rejects.toThrow(/durable: give createMaster a batch name/);
    await expect(createMaster({ transport: durable.transport, tasks: tasksUrl, batch: '../escape' })).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
    const master = await createMaster({ transport: durable.transport, tasks: tasksUrl, batch: 'pi-2026-11' });
    expect(master.batch).toBe('pi-2026-11');
    expect(durable.started.map((start) => start.batch)).toEqual(['pi-2026-11']);
    await master.close();
  });

  it('puts the artifact hash a shipping transport names into every envelope', async () => {
    const scripted = createScriptedTransport();
    scripted.startWith({ taskModuleHash: hash('b') });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    expect(master.moduleHash).toBe(hash('b'));
    expect(scripted.started[0]!.taskModule.hash).not.toBe(hash('b')); // the master's own file hash went to the transport
    await master.submit(add, { a: 1, b: 1 });
    await scripted.until(() => scripted.submitted.length === 1);
    expect(decodeTaskEnvelope(scripted.submitted[0]!.envelope).moduleHash).toBe(hash('b'));
    await master.close({ force: true });
    const bad = createScriptedTransport();
    bad.startWith({ taskModuleHash: 'not-a-hash' });
    await expect(createMaster({ transport: bad.transport, tasks: tasksUrl })).rejects.toSatisfy((error: unknown) => TransportError.isInstance(error));
  });

  it('hands deadlines to the transport and the envelope: from timeoutMs when dispatched, or absolute', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const before = Date.now();
    await master.submit(echo, 'relative', { timeoutMs: 60_000 });
    const absolute = new Date(Date.now() + 3_600_000);
    await master.submit(echo, 'absolute', { deadline: absolute });
    await scripted.until(() => scripted.submitted.length === 2);
    const [relative, fixed] = scripted.submitted;
    expect(relative!.deadline).toBeGreaterThanOrEqual(before + 60_000);
    expect(decodeTaskEnvelope(relative!.envelope).deadline).toBe(relative!.deadline);
    expect(fixed!.deadline).toBe(absolute.getTime());
    expect(decodeTaskEnvelope(fixed!.envelope).deadline).toBe(absolute.getTime());
    await expect(master.submit(echo, 1, { deadline: Number.NaN })).rejects.toThrow(/deadline must be a Date or epoch milliseconds/);
    await master.close({ force: true });
  });

  it('a timeoutMs above 2^31-1 ms does not fire early (it fired after 1 ms)', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const long = await master.submit(echo, 'weeks', { timeoutMs: 2 ** 31 + 60_000 });
    const short = await master.submit(echo, 'soon', { timeoutMs: 30 });
    const error = await short.result.catch((caught: unknown) => caught);
    expect(TaskTimedOutError.isInstance(error)).toBe(true);
    expect(long.status).toBe('dispatched');
    expect(scripted.cancelled).toEqual([short.id]);
    await master.close({ force: true });
  });
});

describe('a master on a durable transport', () => {
  it('keys every task: by position in map, by order in submit; a key gives a stable task id and an input hash', async () => {
    const scripted = createScriptedTransport({ durable: true });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, batch: 'keys' });
    const mapped = master.map(add, [{ a: 1, b: 1 }, { a: 2, b: 2 }]);
    const submitted = await master.submit(add, { a: 3, b: 3 });
    const named = await master.submit(add, { a: 4, b: 4 }, { key: 'my key/with spaces' });
    await scripted.until(() => scripted.submitted.length === 4);
    expect(scripted.submitted.map((task) => task.key)).toEqual(['map-0-0', 'map-0-1', 'submit-1', 'my key/with spaces']);
    expect(scripted.submitted.map((task) => task.taskId)).toEqual(['k:map-0-0', 'k:map-0-1', 'k:submit-1', expect.stringMatching(/^h:[0-9a-f]{32}$/)]);
    expect(submitted.key).toBe('submit-1');
    expect(named.key).toBe('my key/with spaces');
    expect(new Set(scripted.submitted.map((task) => task.inputHash)).size).toBe(4);
    for (const task of scripted.submitted) scripted.answer(task, decodeTaskEnvelope(task.envelope).input);
    await mapped;
    await master.close();
  });

  it('a key it already holds gives back the same handle; the same key with another input is a TaskKeyConflictError', async () => {
    const scripted = createScriptedTransport({ durable: true });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, batch: 'same' });
    const first = await master.submit(echo, 'x', { key: 'k1' });
    expect(await master.submit(echo, 'x', { key: 'k1' })).toBe(first);
    const conflict = await master.submit(echo, 'y', { key: 'k1' }).catch((error: unknown) => error);
    expect(TaskKeyConflictError.isInstance(conflict)).toBe(true);
    expect((conflict as Error).message).toMatch(/"k1" already names another input in batch same/);
    await scripted.until(() => scripted.submitted.length === 1);
    expect(scripted.submitted).toHaveLength(1);
    await master.close({ force: true });
  });

  it('re-attaches to a recovered task by key: nothing is submitted again, and its result settles the new handle', async () => {
    const recoveredTask = { taskId: 'k:map-0-1', taskName: 'add', attempt: 1, submittedAt: 1, key: 'map-0-1' };
    const scripted = createScriptedTransport({ durable: true }, [recoveredTask, { taskId: 'k:orphan', taskName: 'echo', attempt: 1, submittedAt: 1, key: 'orphan' }]);
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, batch: 'rerun' });
    expect(master.stats()).toMatchObject({ recovered: 2, running: 2, queued: 0 });
    expect(master.recovered.map((handle) => handle.key).sort()).toEqual(['map-0-1', 'orphan']);
    const outputs = master.map(add, [{ a: 1, b: 0 }, { a: 2, b: 0 }, { a: 3, b: 0 }]);
    await scripted.until(() => scripted.submitted.length === 2);
    await turn();
    expect(scripted.submitted.map((task) => task.key)).toEqual(['map-0-0', 'map-0-2']);
    expect(master.recovered.map((handle) => handle.key)).toEqual(['orphan']);
    for (const task of scripted.submitted) scripted.answer(task, (decodeTaskEnvelope(task.envelope).input as { a: number }).a);
    scripted.answer({ taskId: 'k:map-0-1', taskName: 'add', attempt: 1, envelope: reEnvelope('k:map-0-1'), files: [] }, 2);
    expect(await outputs).toEqual([1, 2, 3]);
    await master.close({ force: true });
  });

  it('acknowledges only what reached the user: not on a forced close, a time-out or a failed stream', async () => {
    const scripted = createScriptedTransport({ durable: true });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, batch: 'acks' });
    const unread = await master.submit(echo, 'unread');
    const read = await master.submit(echo, 'read');
    const timedOut = await master.submit(echo, 'late', { timeoutMs: 20 });
    const open = await master.submit(echo, 'open');
    await scripted.until(() => scripted.submitted.length === 4);
    scripted.answer(scripted.submitted[0]!, 'unread');
    scripted.answer(scripted.submitted[1]!, 'read');
    expect(await read.result).toBe('read');
    expect(TaskTimedOutError.isInstance(await timedOut.result.catch((error: unknown) => error))).toBe(true);
    await scripted.until(() => scripted.acknowledged.length === 1);
    expect(scripted.acknowledged).toEqual([read.id]);
    await master.close({ force: true });
    expect(MasterClosedError.isInstance(await open.result.catch((error: unknown) => error))).toBe(true);
    expect(unread.status).toBe('completed');
    await turn();
    expect(scripted.acknowledged).toEqual([read.id]); // not the unread result, the timed-out or the force-closed task
    expect(scripted.cancelled).toEqual([timedOut.id]); // a time-out stops the work; a forced close of a durable master does not

    const failing = createScriptedTransport({ durable: true });
    const second = await createMaster({ transport: failing.transport, tasks: tasksUrl, batch: 'acks' });
    const lost = await second.submit(echo, 'lost');
    await failing.until(() => failing.submitted.length === 1);
    failing.events.end(new Error('connection reset'));
    expect(TransportError.isInstance(await lost.result.catch((error: unknown) => error))).toBe(true);
    await turn();
    expect(failing.acknowledged).toEqual([]);
  });

  it('acknowledges what results() and map hand over', async () => {
    const scripted = createScriptedTransport({ durable: true });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, batch: 'handed' });
    const handle = await master.submit(echo, 'collected');
    const mapped = master.map(echo, ['m0', 'm1']);
    await scripted.until(() => scripted.submitted.length === 3);
    for (const task of scripted.submitted) scripted.answer(task, decodeTaskEnvelope(task.envelope).input);
    expect(await mapped).toEqual(['m0', 'm1']);
    const collected = [];
    for await (const settled of master.results()) collected.push(settled.id);
    expect(collected).toEqual([handle.id]);
    await scripted.until(() => scripted.acknowledged.length === 3);
    expect([...scripted.acknowledged].sort()).toEqual(['k:map-0-0', 'k:map-0-1', handle.id].sort());
    await master.close();
  });

  it('a durable batch master that stops hands over what it was still gathering (nothing is left behind to cancel)', async () => {
    const scripted = createScriptedTransport({ durable: true, latency: 'batch', maxBatchSize: 1000 });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, batch: 'gathering' });
    const handles = await Promise.all([1, 2, 3].map((value) => master.submit(echo, value)));
    expect(scripted.submitted).toHaveLength(0); // still in the 100 ms gathering window
    await master.detach();
    expect(scripted.submitted.map((task) => task.key)).toEqual(['submit-1', 'submit-2', 'submit-3']);
    for (const handle of handles) expect(MasterClosedError.isInstance(await handle.result.catch((error: unknown) => error))).toBe(true);
    expect(scripted.cancelled).toEqual([]);
  });

  it('detach() leaves the tasks at the transport; on a transport that is not durable it refuses', async () => {
    const scripted = createScriptedTransport({ durable: true });
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, batch: 'detached' });
    const handle = await master.submit(echo, 'later');
    await scripted.until(() => scripted.submitted.length === 1);
    await master.detach();
    expect(MasterClosedError.isInstance(await handle.result.catch((error: unknown) => error))).toBe(true);
    expect(scripted.cancelled).toEqual([]);
    expect(scripted.closed).toBe(true);
    const local = createScriptedTransport();
    const other = await createMaster({ transport: local.transport, tasks: tasksUrl });
    await expect(other.detach()).rejects.toThrow(/not durable/);
    await other.close();
  });
});

describe('submit', () => {
  it('takes no input for a task that needs none', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl });
    const handle = await master.submit(now);
    expectTypeOf(handle).toEqualTypeOf<TaskHandle<number>>();
    // @ts-expect-error: add needs its input
    await master.submit(add).catch(() => undefined);
    await scripted.until(() => scripted.submitted.length >= 1);
    expect(scripted.submitted[0]!.taskName).toBe('now');
    await master.close({ force: true });
  });
});

/** An envelope for a task id, as an earlier master would have sent it. */
function reEnvelope(taskId: string): Uint8Array {
  return encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId, taskName: 'add', moduleHash: hash('a'), attempt: 1, input: { a: 2, b: 0 } });
}
