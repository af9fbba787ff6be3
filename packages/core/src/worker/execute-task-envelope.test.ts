import { describe, expect, it } from 'vitest';
import {
  decodeResultEnvelope,
  defineTask,
  encodeTaskEnvelope,
  executeTaskEnvelope,
  indexTaskModule,
  type CheckpointStore,
  type ErrorResultEnvelope,
  type OkResultEnvelope,
} from '@tsmw/core';

const registry = indexTaskModule({
  double: defineTask('double', (input: number) => input * 2),
  slow: defineTask('slow', async (input: number, context) => {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, input);
      context.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(context.signal.reason);
      });
    });
    return 'done';
  }),
  resume: defineTask('resume', async (_input: null, context) => {
    const previous = (await context.restore<number>()) ?? 0;
    await context.checkpoint(previous + 1);
    context.progress(2); // clamped to 1
    return previous;
  }),
  huge: defineTask('huge', () => new Uint8Array(2048)),
});

const envelope = (taskName: string, input: unknown, extra: object = {}): Uint8Array =>
  encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: 'task-1', taskName, moduleHash: 'hash', attempt: 1, input, ...extra });

describe('executeTaskEnvelope', () => {
  it('runs the task and encodes its output with timing', async () => {
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('double', 21), registry)) as OkResultEnvelope;
    expect(result).toMatchObject({ ok: true, output: 42, taskId: 'task-1', attempt: 1 });
    expect(result.timing.wallMs).toBeGreaterThanOrEqual(0);
  });

  it('turns bytes that are not an envelope into an error result with an empty task id', async () => {
    const result = decodeResultEnvelope(await executeTaskEnvelope(new Uint8Array([1, 2, 3]), registry)) as ErrorResultEnvelope;
    expect(result).toMatchObject({ ok: false, taskId: '', error: { code: 'TSMW_ENVELOPE_DECODE' } });
  });

  it('refuses an envelope built against another task module', async () => {
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('double', 1), registry, { moduleHash: 'other' })) as ErrorResultEnvelope;
    expect(result.error.code).toBe('TSMW_TASK_MODULE_MISMATCH');
  });

  it('reports an unknown task by name', async () => {
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('missing', 1), registry)) as ErrorResultEnvelope;
    expect(result.error).toMatchObject({ code: 'TSMW_TASK_NOT_FOUND' });
    expect(result.error.message).toContain('double');
  });

  it('aborts the task at its deadline with a timed-out error', async () => {
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('slow', 10_000, { deadline: Date.now() + 50 }), registry)) as ErrorResultEnvelope;
    expect(result.error.code).toBe('TSMW_TASK_TIMED_OUT');
  });

  it('aborts the task when the transport aborts its signal', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('slow', 10_000), registry, { signal: controller.signal })) as ErrorResultEnvelope;
    expect(result.ok).toBe(false);
  });

  it('keeps checkpoints in the given store and clamps progress', async () => {
    const states = new Map<string, Uint8Array>();
    const store: CheckpointStore = { save: async (id, state) => void states.set(id, state), load: async (id) => states.get(id) };
    const progress: number[] = [];
    const options = { checkpoints: store, onProgress: (_id: string, fraction: number) => progress.push(fraction) };
    const first = decodeResultEnvelope(await executeTaskEnvelope(envelope('resume', null), registry, options)) as OkResultEnvelope;
    const second = decodeResultEnvelope(await executeTaskEnvelope(envelope('resume', null), registry, options)) as OkResultEnvelope;
    expect([first.output, second.output]).toEqual([0, 1]);
    expect(progress).toEqual([1, 1]);
  });

  it('uses a given CPU clock for every task, synchronous ones too', async () => {
    let cpu = 100;
    const cpuClock = (): number => (cpu += 7);
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('double', 2), registry, { cpuClock })) as OkResultEnvelope;
    expect(result.timing.cpuMs).toBe(7);
  });

  it('an output over the cap becomes an error result', async () => {
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('huge', null), registry, { maxEnvelopeBytes: 1024 })) as ErrorResultEnvelope;
    expect(result.error.code).toBe('TSMW_ENVELOPE_TOO_LARGE');
  });
});
