import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMaster, encodeTaskEnvelope, WorkerCrashedError, type SubmittedTaskV1 } from '@tsmw/core';
import { echo } from '../../test/fixtures/master-tasks.js';
import { createScriptedTransport } from '../../test/scripted-transport.js';
import { structuredValue } from '../../test/structured-values.js';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);

/**
 * The master lets go of an input once encoded (a queued task holds its input once, as bytes):
 * each later attempt, and the envelope a `timeoutMs` re-encodes at dispatch with its deadline,
 * is encoded from those bytes. Every such envelope must be the bytes `encodeTaskEnvelope` gives
 * for the input as submitted.
 */
async function attemptsOf(inputs: readonly unknown[], options: { timeoutMs?: number; schedule?: (queue: readonly unknown[]) => number }) {
  const scripted = createScriptedTransport({ maxEnvelopeBytes: 64 * 1024 * 1024 });
  const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, retries: 2, ...(options.schedule === undefined ? {} : { schedule: options.schedule }) });
  try {
    const handles = [];
    for (const input of inputs) handles.push(await master.submit(echo, input, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }));
    // Lose the first two attempts of every task: the third comes from the bytes twice re-encoded.
    for (let round = 1; round <= 3; round += 1) {
      await scripted.until(() => scripted.submitted.length === inputs.length * round);
      if (round < 3) {
        for (const task of scripted.submitted.slice(-inputs.length)) scripted.events.push({ type: 'task-lost', taskId: task.taskId, error: new WorkerCrashedError(task.taskId, 'exit code 1') });
      }
    }
    const byTask = new Map<string, SubmittedTaskV1[]>();
    for (const task of scripted.submitted) byTask.set(task.taskId, [...(byTask.get(task.taskId) ?? []), task]);
    const moduleHash = master.moduleHash;
    return handles.map((handle, index) => {
      const attempts = byTask.get(handle.id)!;
      const expected = attempts.map((task) =>
        encodeTaskEnvelope(
          { kind: 'tsmw-task', version: 1, taskId: handle.id, taskName: 'echo', moduleHash, attempt: task.attempt, input: inputs[index], ...(task.deadline === undefined ? {} : { deadline: task.deadline }) },
          { maxBytes: 64 * 1024 * 1024 },
        ),
      );
      return { attempts, expected };
    });
  } finally {
    await master.close({ force: true });
  }
}

function expectSameBytes(results: Awaited<ReturnType<typeof attemptsOf>>): void {
  for (const { attempts, expected } of results) {
    expect(attempts.map((task) => task.attempt)).toEqual([1, 2, 3]);
    for (let index = 0; index < attempts.length; index += 1) expect(Buffer.from(attempts[index]!.envelope).equals(Buffer.from(expected[index]!))).toBe(true);
  }
}

describe('envelopes of later attempts, encoded from the input bytes', () => {
  it('are byte for byte those of the input as submitted, for any value (with and without a time-out to write at dispatch)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(structuredValue, { minLength: 1, maxLength: 6 }), fc.boolean(), async (inputs, timed) => {
        expectSameBytes(await attemptsOf(inputs, timed ? { timeoutMs: 60_000 } : {}));
      }),
      { numRuns: 40 },
    );
  });

  it('hold no input (undefined), large binaries (written apart from the rest) and a mix of them', async () => {
    const large = new Uint8Array(300_000).map((_, index) => index % 251);
    const inputs = [undefined, large, { before: 'x'.repeat(5000), large, after: [1, -0, 2n ** 70n] }, null, 'é€😀'];
    expectSameBytes(await attemptsOf(inputs, {}));
    expectSameBytes(await attemptsOf(inputs, { timeoutMs: 60_000 }));
  });

  it('carry the input as it was at submit, whatever the caller changes afterwards', async () => {
    const scripted = createScriptedTransport();
    const master = await createMaster({ transport: scripted.transport, tasks: tasksUrl, retries: 1 });
    const input = { values: [1, 2, 3] };
    const handle = await master.submit(echo, input);
    input.values.push(4);
    await scripted.until(() => scripted.submitted.length === 1);
    scripted.events.push({ type: 'task-lost', taskId: handle.id, error: new WorkerCrashedError(handle.id, 'exit code 1') });
    await scripted.until(() => scripted.submitted.length === 2);
    scripted.answer(scripted.submitted[1]!, 'done');
    const second = encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: handle.id, taskName: 'echo', moduleHash: master.moduleHash, attempt: 2, input: { values: [1, 2, 3] } });
    expect(Buffer.from(scripted.submitted[1]!.envelope).equals(Buffer.from(second))).toBe(true);
    expect(await handle.result).toBe('done');
    await master.close();
  });

  it('are the same when a schedule hook keeps the inputs on the records (it sees them)', async () => {
    const seen: unknown[] = [];
    const results = await attemptsOf([{ a: 1 }, [2, 3]], {
      schedule: (queue) => {
        seen.push((queue[0] as { input: unknown }).input);
        return 0;
      },
    });
    expectSameBytes(results);
    expect(seen).toContainEqual({ a: 1 });
  });
});
