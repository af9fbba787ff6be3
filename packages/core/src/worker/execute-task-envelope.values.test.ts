// What the worker side does with values: outputs cross with their types, nothing (undefined)
// crosses both ways, and an output or a checkpoint state that cannot cross is named by its path.
import { describe, expect, it } from 'vitest';
import {
  decodeResultEnvelope,
  defineTask,
  encodeTaskEnvelope,
  executeTaskEnvelope,
  indexTaskModule,
  UnsupportedValueError,
  type CheckpointStore,
  type ErrorResultEnvelope,
  type OkResultEnvelope,
} from '@tsmw/core';

const registry = indexTaskModule({
  echo: defineTask('echo', (input: unknown) => input),
  save: defineTask('save', async () => {
    await Promise.resolve();
  }),
  now: defineTask('now', (input: unknown) => ({ hadInput: input !== undefined, at: new Date(0) })),
  handlers: defineTask('handlers', () => ({ rows: [{ id: 1 }, { id: 2, onClick: () => 'clicked' }] })),
  checkpointHandler: defineTask('checkpointHandler', async (_input: unknown, context) => {
    try {
      await context.checkpoint({ progress: 0.5, handler: () => 1 });
      return 'saved';
    } catch (error) {
      return { refused: UnsupportedValueError.isInstance(error), path: (error as UnsupportedValueError).path, message: (error as Error).message };
    }
  }),
  checkpointMap: defineTask('checkpointMap', async (_input: unknown, context) => {
    const restored = await context.restore<Map<string, bigint>>();
    if (restored !== undefined) return restored;
    await context.checkpoint(new Map([['count', 10n]]));
    return undefined;
  }),
});

const envelope = (taskName: string, input: unknown): Uint8Array =>
  encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: 'task-1', taskName, moduleHash: 'hash', attempt: 1, input });

describe('executeTaskEnvelope and values', () => {
  it('a task that returns nothing has an ok result whose output is undefined', async () => {
    const bytes = await executeTaskEnvelope(envelope('save', undefined), registry);
    expect(Buffer.from(bytes).includes(Buffer.from('output'))).toBe(false);
    const result = decodeResultEnvelope(bytes) as OkResultEnvelope;
    expect(result.ok).toBe(true);
    expect(result.output).toBeUndefined();
  });

  it('a task submitted without input receives undefined', async () => {
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('now', undefined), registry)) as OkResultEnvelope;
    expect(result.output).toStrictEqual({ hadInput: false, at: new Date(0) });
  });

  it('outputs keep their types', async () => {
    const value = { map: new Map([['a', 10n]]), samples: new Float64Array([1.5, -0]), missing: [undefined, null] };
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('echo', value), registry)) as OkResultEnvelope;
    expect(result.output).toStrictEqual(value);
  });

  it('an output that cannot cross becomes an error result naming its path from output', async () => {
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('handlers', null), registry)) as ErrorResultEnvelope;
    expect(result.ok).toBe(false);
    expect(result.error.name).toBe('UnsupportedValueError');
    expect(result.error.code).toBe('TSMW_UNSUPPORTED_VALUE');
    expect(result.error.message).toMatch(/^output\.rows\[1\]\.onClick is a function/);
  });

  it('a checkpoint state that cannot cross is refused to the task, naming its path from state', async () => {
    const saved: Uint8Array[] = [];
    const checkpoints: CheckpointStore = {
      save: async (_taskId, state) => {
        saved.push(state);
      },
      load: async () => undefined,
    };
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('checkpointHandler', null), registry, { checkpoints })) as OkResultEnvelope;
    expect(result.output).toMatchObject({ refused: true, path: 'state.handler', message: expect.stringMatching(/^state\.handler is a function/) });
    expect(saved).toHaveLength(0);
  });

  it('a checkpoint state keeps its types when restored', async () => {
    const states = new Map<string, Uint8Array>();
    const checkpoints: CheckpointStore = {
      save: async (taskId, state) => {
        states.set(taskId, state);
      },
      load: async (taskId) => states.get(taskId),
    };
    await executeTaskEnvelope(envelope('checkpointMap', null), registry, { checkpoints });
    const result = decodeResultEnvelope(await executeTaskEnvelope(envelope('checkpointMap', null), registry, { checkpoints })) as OkResultEnvelope;
    expect(result.output).toStrictEqual(new Map([['count', 10n]]));
  });
});
