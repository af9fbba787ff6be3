import { describe, expect, it } from 'vitest';
import { SubmissionQueue, type ScheduleHook } from './submission-queue.js';
import { TaskRecord, type TaskRecordHost } from './task-record.js';

const host: TaskRecordHost = { cancelRecord() {}, claimRecord() {} };
const records = (count: number): TaskRecord[] => Array.from({ length: count }, (_, index) => new TaskRecord(host, `t${index}`, 'add', index, 0));

/** Queues `count` tasks, cancels every tenth while queued, and drains; returns the queue. */
function drain(count: number, schedule?: ScheduleHook): { queue: SubmissionQueue; taken: number } {
  const queue = new SubmissionQueue(schedule, Number.POSITIVE_INFINITY, () => {});
  const all = records(count);
  for (const record of all) queue.push(record);
  let taken = 0;
  for (let index = 0; index < all.length; index += 1) {
    if (index % 10 === 0) {
      all[index]!.state = 'cancelled';
      queue.noteSettledInQueue();
    }
  }
  for (let record = queue.takeNext(); record !== undefined; record = queue.takeNext()) {
    record.state = 'dispatched';
    taken += 1;
  }
  return { queue, taken };
}

describe('SubmissionQueue', () => {
  it('FIFO: queues and drains 100,000 tasks moving O(n) slots in all', () => {
    const { queue, taken } = drain(100_000);
    expect(taken).toBe(90_000);
    expect(queue.movedSlots).toBeLessThanOrEqual(2 * 100_000);
  });

  it('with a hook that takes the oldest, the work per task stays constant from 10,000 to 100,000 tasks (it was quadratic)', () => {
    const small = drain(10_000, () => 0);
    const large = drain(100_000, () => 0);
    expect(small.taken).toBe(9_000);
    expect(large.taken).toBe(90_000);
    expect(large.queue.movedSlots / 100_000).toBeLessThanOrEqual(Math.max(2, (small.queue.movedSlots / 10_000) * 1.5));
  });

  it('with a hook that takes the newest, nothing is moved at all', () => {
    const { queue, taken } = drain(50_000, (view) => view.length - 1);
    expect(taken).toBe(45_000);
    expect(queue.movedSlots).toBeLessThanOrEqual(2 * 50_000);
  });

  it('hands the hook a read-only view of live tasks; writes throw and lose nothing', () => {
    const seen: Array<{ length: number; ids: string[] }> = [];
    const attempts: string[] = [];
    const queue = new SubmissionQueue(
      (view) => {
        seen.push({ length: view.length, ids: view.map((task) => task.id) });
        for (const write of [() => ((view as unknown as unknown[]).length = 0), () => (view as unknown as unknown[]).splice(0, 1), () => ((view as unknown as unknown[])[0] = null)]) {
          try {
            write();
            attempts.push('allowed');
          } catch (error) {
            attempts.push((error as Error).constructor.name);
          }
        }
        expect(Object.isFrozen(view[0])).toBe(true);
        return 1;
      },
      Number.POSITIVE_INFINITY,
      () => {},
    );
    const [a, b, c] = records(3);
    queue.push(a!);
    queue.push(b!);
    queue.push(c!);
    a!.state = 'cancelled';
    queue.noteSettledInQueue();
    expect(queue.takeNext()?.id).toBe('t2'); // index 1 of the live tasks [t1, t2]
    expect(seen[0]).toEqual({ length: 2, ids: ['t1', 't2'] });
    expect(attempts).toEqual(['TypeError', 'TypeError', 'TypeError']);
    expect(queue.takeNext()?.id).toBe('t1');
    expect(queue.takeNext()).toBeUndefined();
  });

  it('a hook that throws or answers nonsense is reported once, and the oldest task goes instead', () => {
    const reports: string[] = [];
    let calls = 0;
    const queue = new SubmissionQueue(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('bad hook');
        return calls === 2 ? 99 : Number.NaN;
      },
      Number.POSITIVE_INFINITY,
      (message) => reports.push(message),
    );
    for (const record of records(3)) queue.push(record);
    expect([queue.takeNext()?.id, queue.takeNext()?.id, queue.takeNext()?.id]).toEqual(['t0', 't1', 't2']);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/threw \(bad hook\).*oldest task goes instead.*reported once/);
  });

  it('retries go before everything else', () => {
    const queue = new SubmissionQueue(undefined, Number.POSITIVE_INFINITY, () => {});
    const [a, b] = records(2);
    queue.push(a!);
    queue.pushRetry(b!);
    expect(queue.takeNext()?.id).toBe('t1');
    expect(queue.takeNext()?.id).toBe('t0');
  });
});
