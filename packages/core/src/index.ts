// The public API of @tsmw/core. Nothing else is public.

// Tasks
export { defineTask, isTaskDefinition, type TaskDefinition, type TaskDefinitionOptions, type TaskFunction, type TaskInput, type TaskOutput } from './task/define-task.js';
export type { TaskContext } from './task/task-context.js';
export { indexTaskModule, type TaskRegistry } from './task/task-module.js';
export { hashTaskModule, isTaskModuleHash } from './task/hash-task-module.js';

// Master
export { createMaster } from './master/create-master.js';
export { batchNamePattern, assertBatchName } from './master/batch-name.js';
export type { Master, MasterOptions, MapOptions, MapReduceOptions, CloseOptions } from './master/master.js';
export type { TaskHandle, TaskStatus, SettledTask, SubmitOptions, QueuedTask } from './master/task-handle.js';
export type { MasterStats, TaskStats, DurationSummary } from './master/stats.js';
export type { MasterEvents, MasterEventName, MasterEventListener } from './master/events.js';

// Transport contract
export type {
  Transport,
  TransportV1,
  TransportStartOptionsV1,
  TransportStartResultV1,
  TaskModuleReferenceV1,
  RecoveredTaskV1,
  SubmittedTaskV1,
  TaskFileV1,
  TransportEventV1,
} from './transport/transport-v1.js';
export type { TransportCapabilitiesV1 } from './transport/capabilities.js';
export { assertTransport } from './transport/is-transport.js';
export { toRecoveredTask, type RecoverableTask } from './transport/recovered-task.js';
export { createEventQueue, type EventQueue } from './transport/event-queue.js';

// Worker side
export { executeTaskEnvelope, executeTaskEnvelopeNow, runTaskEnvelope, type ExecuteOptions, type CheckpointStore } from './worker/execute-task-envelope.js';

// Wire format
export * from './wire/index.js';

// Errors
export * from './errors/index.js';
