import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { TaskDefinition } from '../task/define-task.js';
import { mapAll, type MapHost } from './map.js';
import type { MapOptions, MapReduceOptions } from './master.js';

/**
 * PyMW's MapReduce: maps every input, splits the outputs (in input order) into `reducers`
 * parts, reduces each, then reduces the partial results with one more task. On a durable
 * transport each stage's tasks are keyed (`mapreduce-<n>-map-<i>`, `-reduce-<i>`, `-total-0`),
 * so a master started again continues the stage it was in.
 */
export async function mapReduce(
  host: MapHost,
  mapTask: TaskDefinition<never, unknown>,
  reduceTask: TaskDefinition<never, unknown>,
  inputs: Iterable<unknown> | AsyncIterable<unknown>,
  options: MapReduceOptions,
): Promise<unknown> {
  host.assertOpen();
  host.resolveTask(mapTask);
  host.resolveTask(reduceTask);
  const reducers = options.reducers ?? 1;
  if (typeof reducers !== 'number' || !Number.isInteger(reducers) || reducers < 1) throw new InvalidArgumentError(`reducers must be a whole number >= 1, not ${reducers}`);
  const prefix = options.keyPrefix ?? (host.keysEveryTask ? `mapreduce-${host.nextMapOrdinal()}-` : undefined);
  // The caller's `key` function names the map stage's tasks only; the reduce stages are keyed by the prefix.
  const { key: _key, keyPrefix: _keyPrefix, files: _files, ...stageOptions } = options;
  const mapOptions: MapOptions = { ...stageOptions, ...(options.key === undefined ? {} : { key: options.key }), ...(options.files === undefined ? {} : { files: options.files }) };
  const mapped = await mapAll(host, mapTask, inputs, mapOptions, prefix === undefined ? undefined : `${prefix}map-`);
  const parts = Math.max(1, Math.min(reducers, mapped.length));
  const size = Math.max(1, Math.ceil(mapped.length / parts));
  const chunks: unknown[][] = [];
  for (let start = 0; start < mapped.length || chunks.length === 0; start += size) chunks.push(mapped.slice(start, start + size));
  const partials = await mapAll(host, reduceTask, chunks, stageOptions, prefix === undefined ? undefined : `${prefix}reduce-`);
  if (partials.length === 1) return partials[0];
  const [total] = await mapAll(host, reduceTask, [partials], stageOptions, prefix === undefined ? undefined : `${prefix}total-`);
  return total;
}
