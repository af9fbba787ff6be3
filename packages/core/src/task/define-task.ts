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
  /**
   * When a transport runs the task more than once for the same input (BOINC with a quorum of
   * two or more), whether two outputs agree. Default: equal structure and values.
   * (A method, so that a definition of any output type is a `TaskDefinition<never, unknown>`.)
   */
  equals?(a: Awaited<Output>, b: Awaited<Output>): boolean;
}

/** What `defineTask` takes beside the name and the function. */
export interface TaskDefinitionOptions<Output> {
  /**
   * Whether two outputs of the task for the same input agree, for redundant computing (BOINC's
   * quorum): outputs that depend on the host (timings, floating-point noise) can be compared
   * loosely here. It runs where the outputs are compared (on the BOINC server), not in workers.
   */
  readonly equals?: (a: Awaited<Output>, b: Awaited<Output>) => boolean;
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
// `Input = void`: a run function without a parameter makes a task submitted as `submit(task)`.
export function defineTask<Input = void, Output = unknown>(
  name: string,
  run: TaskFunction<Input, Output>,
  options: TaskDefinitionOptions<Output> = {},
): TaskDefinition<Input, Output> {
  if (typeof name !== 'string' || !validName.test(name)) {
    throw new InvalidArgumentError(
      `Task name ${JSON.stringify(name)} is not valid: use 1 to 200 letters, digits, "_", "$", "." or "-", starting with a letter`,
    );
  }
  if (typeof run !== 'function') throw new InvalidArgumentError(`Task ${name}: run must be a function`);
  const equals = options?.equals;
  if (equals !== undefined && typeof equals !== 'function') throw new InvalidArgumentError(`Task ${name}: equals must be a function (a, b) => boolean`);
  const definition: { -readonly [Key in keyof TaskDefinition<Input, Output>]: TaskDefinition<Input, Output>[Key] } = { name, run };
  if (equals !== undefined) definition.equals = equals;
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
