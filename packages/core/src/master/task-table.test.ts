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
    expect(table.openRecords()).toEqual([]);
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

  it('indexes by id the tasks a transport or a submission may name, and lists every open task', () => {
    const queue: TaskRecord[] = [];
    const table = new TaskTable('', () => queue);
    const plain = new TaskRecord(host, 'plain', 'add', 1, 0);
    const keyed = new TaskRecord(host, 'keyed', 'add', 2, 0, {}, [], 0, 'my-key');
    const recovered = new TaskRecord(host, 'recovered', 'add', undefined, 0);
    for (const record of [plain, keyed]) {
      table.add(record, 'queued');
      queue.push(record);
    }
    table.add(recovered, 'dispatched');
    // A queued task without a key is not in the index (no transport knows it yet), but it is open.
    expect(table.get('plain')).toBeUndefined();
    expect(table.get('keyed')).toBe(keyed);
    expect(table.get('recovered')).toBe(recovered);
    expect(new Set(table.openRecords())).toEqual(new Set([plain, keyed, recovered]));
    // Dispatched: in the index, and listed once.
    queue.splice(queue.indexOf(plain), 1);
    expect(table.transition(plain, 'dispatch')).toBe(true);
    expect(table.get('plain')).toBe(plain);
    // Back in the queue for a retry: still in the index, still listed once.
    expect(table.transition(plain, 'retry')).toBe(true);
    queue.push(plain);
    expect(table.get('plain')).toBe(plain);
    expect(table.openRecords().filter((record) => record === plain)).toHaveLength(1);
    // Settled: out of the index and the list.
    for (const record of [plain, keyed, recovered]) {
      expect(table.settle(record, 'cancel', { ok: false, error: new Error('x'), fromTransport: false })).toBe(true);
      expect(table.get(record.id)).toBeUndefined();
    }
    expect(table.openRecords()).toEqual([]);
  });
});
