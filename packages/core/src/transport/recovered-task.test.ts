import { describe, expect, it } from 'vitest';
import { toRecoveredTask } from './recovered-task.js';

describe('toRecoveredTask', () => {
  it('keeps exactly the contract fields: a store’s own fields go, undefined optional fields stay absent', () => {
    const stored = { taskId: 't1', taskName: 'square', attempt: 2, submittedAt: 5, key: 'k', inputHash: undefined, deadline: 99, envelope: new Uint8Array(3), seq: 7 };
    const recovered = toRecoveredTask(stored);
    expect(recovered).toStrictEqual({ taskId: 't1', taskName: 'square', attempt: 2, submittedAt: 5, key: 'k', deadline: 99 });
    expect('inputHash' in recovered).toBe(false);
  });
});
