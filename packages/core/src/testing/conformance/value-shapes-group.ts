import { expect } from 'vitest';
import { TaskFailedError } from '../../errors/task-failed-error.js';
import { UnsupportedValueError } from '../../errors/unsupported-value-error.js';
import type { Master, MasterOptions } from '../../master/master.js';
import type { TransportCapabilitiesV1 } from '../../transport/capabilities.js';
import * as tasks from './conformance-tasks.js';

/** What the value-shapes group needs from the suite: its test helper and a master over the suite's task module. */
export interface ValueShapesGroupContext {
  readonly test: (title: string, needs: ((capabilities: TransportCapabilitiesV1) => string | undefined) | undefined, body: () => Promise<void>) => void;
  readonly start: (extra?: Omit<MasterOptions, 'transport' | 'tasks'>) => Promise<Master>;
}

/** Every value shape structuredClone knows, each sent to a real task and back. */
function shapes(): Array<[string, unknown]> {
  const pattern = /t+sm?w/giu;
  pattern.lastIndex = 2; // comes back 0, as structuredClone makes it
  return [
    // eslint-disable-next-line no-sparse-arrays
    ['undefined items and holes', [undefined, 1, , 3, null]],
    ['a Map with keys of any type', new Map<unknown, unknown>([['a', 1], [2, 'b'], [{ k: true }, [null]], [10n, undefined]])],
    ['a Set', new Set<unknown>(['x', 1, 2n, undefined])],
    ['bigints of any size', [0n, 10n, -129n, 2n ** 63n, -(2n ** 64n), 3n ** 200n]],
    [
      'every typed array',
      [
        new Int8Array([-1, 1]),
        new Uint8Array([0, 255]),
        new Uint8ClampedArray([9]),
        new Int16Array([-300]),
        new Uint16Array([65_535]),
        new Int32Array([-70_000]),
        new Uint32Array([2 ** 32 - 1]),
        new Float32Array([1.5]),
        new Float64Array([Math.PI, -0]),
        new BigInt64Array([-1n]),
        new BigUint64Array([2n ** 64n - 1n]),
      ],
    ],
    ['a large Float64Array (1 MiB)', new Float64Array(128 * 1024).map((_, index) => Math.sin(index))],
    ['an ArrayBuffer and a DataView', [new Uint8Array([1, 2, 3]).buffer, new DataView(new Uint8Array([4, 5]).buffer)]],
    ['NaN, -0 and the infinities', [Number.NaN, -0, Infinity, -Infinity]],
    ['regular expressions', [pattern, /^$/m]],
    ['dates, before 1970 and invalid', [new Date(-1_500), new Date(1.5), new Date(8.64e15), new Date(Number.NaN)]],
    ['boxed primitives', [new Number(-0), new String('s'), new Boolean(false), Object(5n) as object]],
    ['strings with lone surrogates', ['a\ud800b', `${'x'.repeat(50)}\udc00`]],
    ['nested shapes', { table: new Map([['rows', [new Set([new Map([[1, new Float32Array([0.5])]])])]]]), when: new Date(0) }],
  ];
}

/**
 * The value-shapes group: every value shape crosses to a real task and back with its type, on
 * this transport; `undefined` crosses as an input and as an output; what cannot cross is refused
 * at `submit` (input) or fails the task (output), each naming its path.
 */
export function valueShapesGroup({ test, start }: ValueShapesGroupContext): void {
  for (const [shape, value] of shapes()) {
    test(`echo round-trips ${shape} with their types`, undefined, async () => {
      const master = await start();
      const output = await (await master.submit(tasks.echo, value)).result;
      if (value instanceof Float64Array && value.length > 1024) {
        // Compared as bytes: an element-by-element diff of 131,072 numbers takes seconds.
        expect(output).toBeInstanceOf(Float64Array);
        expect(Buffer.from((output as Float64Array).buffer).equals(Buffer.from(value.buffer))).toBe(true);
      } else {
        expect(output).toStrictEqual(value);
      }
      if (value instanceof Map) expect([...(output as Map<unknown, unknown>).keys()]).toStrictEqual([...value.keys()]);
    });
  }

  test('echo round-trips errors as values: class, message, stack, cause and code', undefined, async () => {
    const master = await start();
    const error = Object.assign(new RangeError('bad darts', { cause: new TypeError('not a number') }), { code: 'E_DARTS' });
    const output = (await (await master.submit(tasks.echo, { error })).result) as { error: RangeError & { code?: string } };
    expect(output.error).toBeInstanceOf(RangeError);
    expect(output.error).toStrictEqual(error);
    expect([output.error.stack, output.error.code, (output.error.cause as Error).stack]).toStrictEqual([error.stack, 'E_DARTS', (error.cause as Error).stack]);
  });

  test('object properties holding undefined are left out; undefined items are kept', undefined, async () => {
    const master = await start();
    const output = await (await master.submit(tasks.echo, { kept: 1, dropped: undefined, list: [undefined] })).result;
    expect(output).toStrictEqual({ kept: 1, list: [undefined] });
  });

  test('an undefined input reaches the task, and an undefined output comes back', undefined, async () => {
    const master = await start();
    const handle = await master.submit(tasks.echo, undefined);
    expect(await handle.result).toBeUndefined();
    expect(handle.status).toBe('completed');
  });

  test('a task that takes no input runs', undefined, async () => {
    const master = await start();
    expect(await (await master.submit(tasks.takesNothing, undefined)).result).toBe('ran without input');
  });

  test('a task that returns nothing completes with undefined', undefined, async () => {
    const master = await start();
    const handle = await master.submit(tasks.returnsNothing, { ms: 1 });
    expect(await handle.result).toBeUndefined();
    expect(handle.status).toBe('completed');
  });

  test('an input that cannot cross is refused at submit with its path, and the master goes on', undefined, async () => {
    const master = await start();
    const refused = await master.submit(tasks.echo, { items: [1, 2, 3, { callback: () => 1 }] }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(UnsupportedValueError.isInstance(refused)).toBe(true);
    expect((refused as UnsupportedValueError).path).toBe('input.items[3].callback');
    const cyclic: Record<string, unknown> = { a: { b: {} } };
    ((cyclic['a'] as Record<string, unknown>)['b'] as Record<string, unknown>)['back'] = cyclic['a'];
    await expect(master.submit(tasks.echo, cyclic)).rejects.toThrow('input.a.b.back is a circular reference to input.a');
    expect(await (await master.submit(tasks.add, { a: 1, b: 1 })).result).toBe(2);
  });

  test('an output that cannot cross fails the task with an error naming its path from output', undefined, async () => {
    const master = await start();
    const error = await (await master.submit(tasks.returnsFunction, undefined)).result.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(TaskFailedError.isInstance(error)).toBe(true);
    const failed = error as TaskFailedError;
    expect(failed.remoteCode).toBe('TSMW_UNSUPPORTED_VALUE');
    expect(failed.remote.name).toBe('UnsupportedValueError');
    expect(failed.remote.message).toMatch(/^output\.handlers\.get\("click"\) is a function/);
  });
}
