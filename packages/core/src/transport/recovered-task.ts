import type { RecoveredTaskV1 } from './transport-v1.js';

/** What a durable transport keeps of a task, at the least (a stored field may be `undefined`). */
export interface RecoverableTask {
  readonly taskId: string;
  readonly taskName: string;
  readonly attempt: number;
  readonly submittedAt: number;
  readonly key?: string | undefined;
  readonly inputHash?: string | undefined;
  readonly deadline?: number | undefined;
}

/**
 * The `RecoveredTaskV1` a durable transport reports at start for a task it kept: exactly the
 * contract's fields of `task` (a store's own fields, such as the envelope, are left out; absent
 * optional fields stay absent).
 */
export function toRecoveredTask(task: RecoverableTask): RecoveredTaskV1 {
  return {
    taskId: task.taskId,
    taskName: task.taskName,
    attempt: task.attempt,
    submittedAt: task.submittedAt,
    ...(task.key === undefined ? {} : { key: task.key }),
    ...(task.inputHash === undefined ? {} : { inputHash: task.inputHash }),
    ...(task.deadline === undefined ? {} : { deadline: task.deadline }),
  };
}
