import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TaskIndex } from './task-index.js';
import { TaskRecord, type TaskRecordHost } from './task-record.js';

const host: TaskRecordHost = { cancelRecord() {}, claimRecord() {} };
const prefix = 'mh3k2x9aab12cd-';
const record = (id: string): TaskRecord => new TaskRecord(host, id, 'add', undefined, 0);

/** Ids as the master makes them (small counters, some past 2^31 and the largest it parses), and ids of other shapes. */
const ownId = fc
  .oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 2 ** 31 - 3, max: 2 ** 31 + 3 }), fc.integer({ min: 2 ** 32 - 3, max: 2 ** 32 + 3 }), fc.constant(36 ** 10 - 1))
  .map((n) => prefix + n.toString(36));
const otherId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 4 }).map((key) => `k:${key}`),
  fc.constantFrom(`${prefix}0a`, `${prefix}`, `${prefix}A1`, `${prefix}${'1'.repeat(11)}`, 'other-1', `${prefix}1-`),
);
const id = fc.oneof(ownId, otherId);

describe('TaskIndex', () => {
  it('finds exactly the records added and not removed, whatever the order (checked against a Map)', () => {
    fc.assert(
      // A table of 4 slots to start with: collisions, probe runs that wrap around its end, growth.
      fc.property(fc.array(fc.tuple(fc.boolean(), id), { minLength: 1, maxLength: 1000 }), (operations) => {
        const index = new TaskIndex(prefix, 4);
        const model = new Map<string, TaskRecord>();
        for (const [adding, taskId] of operations) {
          if (adding && !model.has(taskId)) {
            const added = record(taskId);
            index.add(added);
            model.set(taskId, added);
          } else if (!adding && model.has(taskId)) {
            index.remove(model.get(taskId)!);
            model.delete(taskId);
          }
          expect(index.get(taskId)).toBe(model.get(taskId));
        }
        expect(index.size).toBe(model.size);
        for (const [taskId, held] of model) expect(index.get(taskId)).toBe(held);
        expect(new Set(index.values())).toEqual(new Set(model.values()));
      }),
      { numRuns: 200 },
    );
  });

  it('grows past its first table and keeps every record findable as they come and go', () => {
    const index = new TaskIndex(prefix);
    const open: TaskRecord[] = [];
    for (let counter = 0; counter < 50_000; counter += 1) {
      const added = record(prefix + counter.toString(36));
      index.add(added);
      open.push(added);
      // Settle in a scrambled order, keeping a few thousand open.
      if (open.length > 3000) index.remove(open.splice((counter * 7919) % open.length, 1)[0]!);
    }
    expect(index.size).toBe(open.length);
    for (const held of open) expect(index.get(held.id)).toBe(held);
    expect(index.get(`${prefix}${(60_000).toString(36)}`)).toBeUndefined();
  });
});
