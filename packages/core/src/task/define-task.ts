import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { callerModuleUrl } from './caller-module.js';
import type { TaskContext } from './task-context.js';

const taskMarker = Symbol.for('tsmw.task-definition');
const definedInKey = Symbol.for('tsmw.task-defined-in');

/** The function a task runs. */
export type TaskFunction<Input, Output> = (input: Input, context: TaskContext) => Output | Promise<Output>;

/**
 * A task: a name and the function that runs it. Export definitions from a task module; the
 * master imports the same module to submit them with their types.
 */
export interface TaskDefinition<Input = unknown, Output = unknown> {
  readonly name: string;
  readonly run: TaskFunction<Input, Output>;
}

/** The input type of a task definition. */
export type TaskInput<T> = T extends TaskDefinition<infer Input, any> ? Input : never;
/** The output type of a task definition (what `result` resolves to). */
export type TaskOutput<T> = T extends TaskDefinition<any, infer Output> ? Awaited<Output> : never;

const validName = /^[A-Za-z_$][\w$.-]{0,199}$/;

/**
 * Defines a task. The name identifies the task on the wire, so it must be unique within its
 * task module and stay stable between the master and its workers.
 *
 * ```ts
 * export const pi = defineTask('pi', (input: { darts: number }) => countHits(input.darts));
 * ```
 */
export function defineTask<Input, Output>(name: string, run: TaskFunction<Input, Output>): TaskDefinition<Input, Output> {
  if (typeof name !== 'string' || !validName.test(name)) {
    throw new InvalidArgumentError(
      `Task name ${JSON.stringify(name)} is not valid: use 1 to 200 letters, digits, "_", "$", "." or "-", starting with a letter`,
    );
  }
  if (typeof run !== 'function') throw new InvalidArgumentError(`Task ${name}: run must be a function`);
  const definition = { name, run };
  Object.defineProperty(definition, taskMarker, { value: true });
  const definedIn = callerModuleUrl(defineTask);
  if (definedIn !== undefined) Object.defineProperty(definition, definedInKey, { value: definedIn });
  return Object.freeze(definition);
}

/** The URL of the module that called `defineTask` for this definition, when it could be told. */
export function taskDefinedIn(definition: TaskDefinition): string | undefined {
  const value = (definition as unknown as Record<symbol, unknown>)[definedInKey];
  return typeof value === 'string' ? value : undefined;
}

/** Whether a value was made by `defineTask` (in this or another copy of `@tsmw/core`). */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[taskMarker] === true;
}
