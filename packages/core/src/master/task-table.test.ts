import { describe, expect, it } from 'vitest';
import { TaskRecord, type TaskRecordHost } from './task-record.js';
import { TaskTable } from './task-table.js';

const host: TaskRecordHost = { cancelRecord() {}, claimRecord() {} };

function settleAll(count: number): TaskTable {
  const table = new TaskTable();
  for (let index = 0; index < count; index += 1) {
    const record = new TaskRecord(host, `t${index}`, 'add', index, 0);
    table.add(record, 'queued');
    table.transition(record, 'dispatch');
    table.settle(record, 'complete', { ok: true, output: index, console: [], timing: { startedAt: 0, wallMs: 0, cpuMs: 0 } });
  }
  return table;
}

describe('TaskTable', () => {
  it('hands out 200,000 settled tasks in settle order, doing O(1) work per task (draining was quadratic)', () => {
    for (const count of [20_000, 200_000]) {
      const table = settleAll(count);
      let taken = 0;
      let previous = -1;
      for (let next = table.takeCollectable(); next.record !== undefined; next = table.takeCollectable()) {
        const index = Number(next.record.id.slice(1));
        expect(index).toBe(previous + 1);
        previous = index;
        taken += 1;
      }
      expect(taken).toBe(count);
      expect(table.takeCollectable()).toEqual({ record: undefined, done: true });
      expect(table.movedSlots).toBeLessThanOrEqual(count);
    }
  });

  it('skips tasks claimed after they settled, and counts every state', () => {
    const table = settleAll(3);
    const first = table.takeCollectable().record!;
    expect(first.id).toBe('t0');
    expect(table.counts.completed).toBe(3);
    expect(table.counts.open).toBe(0);
    expect(table.size).toBe(0);
  });

  it('refuses transitions that do not apply, leaving the counts alone', () => {
    const table = new TaskTable();
    const record = new TaskRecord(host, 't', 'add', 1, 0);
    table.add(record, 'queued');
    expect(table.transition(record, 'start')).toBe(false);
    expect(table.settle(record, 'time-out', { ok: false, error: new Error('x'), fromTransport: false })).toBe(false);
    expect(table.counts.queued).toBe(1);
    expect(table.settle(record, 'cancel', { ok: false, error: new Error('x'), fromTransport: false })).toBe(true);
    expect(table.settle(record, 'complete', { ok: true, output: 1, console: [], timing: { startedAt: 0, wallMs: 0, cpuMs: 0 } })).toBe(false);
    expect({ queued: table.counts.queued, cancelled: table.counts.cancelled, completed: table.counts.completed }).toEqual({ queued: 0, cancelled: 1, completed: 0 });
  });
});
