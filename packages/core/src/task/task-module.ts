import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { isTaskDefinition, type TaskDefinition } from './define-task.js';

/** The task definitions of a loaded task module, by task name. */
export type TaskRegistry = ReadonlyMap<string, TaskDefinition>;

/**
 * Finds every task definition exported by a loaded task module (named exports, and the members
 * of a default-exported object). Two definitions with the same name are an error.
 */
export function indexTaskModule(moduleNamespace: unknown): TaskRegistry {
  const registry = new Map<string, TaskDefinition>();
  if (typeof moduleNamespace !== 'object' || moduleNamespace === null) return registry;
  const add = (value: unknown): void => {
    if (!isTaskDefinition(value)) return;
    const existing = registry.get(value.name);
    if (existing !== undefined && existing !== value) {
      throw new InvalidArgumentError(`The task module defines two tasks named "${value.name}"`);
    }
    registry.set(value.name, value);
  };
  for (const value of Object.values(moduleNamespace)) add(value);
  const defaultExport = (moduleNamespace as { default?: unknown }).default;
  if (typeof defaultExport === 'object' && defaultExport !== null && !isTaskDefinition(defaultExport)) {
    for (const value of Object.values(defaultExport)) add(value);
  }
  return registry;
}
