import type { TaskRecord } from './task-record.js';

const INITIAL_SLOTS = 1024;
/** Base-36 digits of a safe integer: at most 10 (36^10 < 2^53). */
const MAX_ORDINAL_DIGITS = 10;

/**
 * The open tasks by id. The ids a master makes itself are its prefix and a counter in base 36
 * (`k3x9a1f2b3c4-1z`): those are found by the counter, in an open-addressing table of records;
 * any other id (a key's, a recovered task's) is in a Map.
 *
 * Why not one Map: a Map whose entries come and go (every task is added when dispatched and
 * removed when it settles, a few thousand in flight) costs 400-900 ns per add and remove on
 * this kind of machine, more than the rest of the master's work for a tiny task; a string id
 * also has to be flattened and hashed once. Here an add or a remove is a few array accesses.
 * @internal
 */
export class TaskIndex {
  /** Records by counter: linear probing from `home(counter)`, no tombstones (removal shifts back). */
  private slots: Array<TaskRecord | undefined>;
  /** The counter of the record in each slot (a float: counters pass 2^31 in a long run). */
  private ordinals: Float64Array;
  private mask: number;
  /** 32 - log2 of the table's size: `home` takes the top bits of a multiplicative hash. */
  private shift: number;
  private counted = 0;
  private readonly others = new Map<string, TaskRecord>();

  /** `initialSlots`: a power of two (small ones let tests reach collisions and growth quickly). */
  constructor(
    private readonly prefix: string,
    initialSlots = INITIAL_SLOTS,
  ) {
    this.slots = new Array<TaskRecord | undefined>(initialSlots).fill(undefined);
    this.ordinals = new Float64Array(initialSlots);
    this.mask = initialSlots - 1;
    this.shift = 32 - Math.log2(initialSlots);
  }

  get size(): number {
    return this.counted + this.others.size;
  }

  get(id: string): TaskRecord | undefined {
    const ordinal = this.ordinalOf(id);
    if (ordinal < 0) return this.others.get(id);
    const slots = this.slots;
    const ordinals = this.ordinals;
    const mask = this.mask;
    for (let slot = this.home(ordinal); ; slot = (slot + 1) & mask) {
      const record = slots[slot];
      if (record === undefined) return undefined;
      if (ordinals[slot] === ordinal) return record;
    }
  }

  /** Adds a record whose id is not in the index. */
  add(record: TaskRecord): void {
    const ordinal = this.ordinalOf(record.id);
    if (ordinal < 0) {
      this.others.set(record.id, record);
      return;
    }
    if ((this.counted + 1) * 2 > this.slots.length) this.grow();
    this.place(record, ordinal);
    this.counted += 1;
  }

  remove(record: TaskRecord): void {
    const ordinal = this.ordinalOf(record.id);
    if (ordinal < 0) {
      this.others.delete(record.id);
      return;
    }
    const slots = this.slots;
    const ordinals = this.ordinals;
    const mask = this.mask;
    let slot = this.home(ordinal);
    for (;;) {
      const found = slots[slot];
      if (found === undefined) return;
      if (ordinals[slot] === ordinal) break;
      slot = (slot + 1) & mask;
    }
    // Backward-shift deletion: a record further along its probe run moves into the gap when the
    // gap lies between its home slot and where it is, so every lookup still finds it.
    let gap = slot;
    for (let next = (gap + 1) & mask; ; next = (next + 1) & mask) {
      const moving = slots[next];
      if (moving === undefined) break;
      const home = this.home(ordinals[next]!);
      const between = gap <= next ? home <= gap || home > next : home <= gap && home > next;
      if (between) {
        slots[gap] = moving;
        ordinals[gap] = ordinals[next]!;
        gap = next;
      }
    }
    slots[gap] = undefined;
    this.counted -= 1;
  }

  values(): TaskRecord[] {
    const list: TaskRecord[] = [];
    for (const record of this.slots) if (record !== undefined) list.push(record);
    for (const record of this.others.values()) list.push(record);
    return list;
  }

  private place(record: TaskRecord, ordinal: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let slot = this.home(ordinal);
    while (slots[slot] !== undefined) slot = (slot + 1) & mask;
    slots[slot] = record;
    this.ordinals[slot] = ordinal;
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldOrdinals = this.ordinals;
    const size = oldSlots.length * 2;
    this.slots = new Array<TaskRecord | undefined>(size).fill(undefined);
    this.ordinals = new Float64Array(size);
    this.mask = size - 1;
    this.shift -= 1;
    for (let slot = 0; slot < oldSlots.length; slot += 1) {
      const record = oldSlots[slot];
      if (record !== undefined) this.place(record, oldOrdinals[slot]!);
    }
  }

  /**
   * Where a counter's probe starts: a multiplicative (Fibonacci) hash, as consecutive counters
   * in consecutive slots would make one long run, and each removal would shift all of it.
   */
  private home(ordinal: number): number {
    return Math.imul(ordinal | 0, 0x9e3779b1) >>> this.shift;
  }

  /** The counter of an id this master made (its prefix, then base-36 digits without a leading zero), or -1. */
  private ordinalOf(id: string): number {
    const prefix = this.prefix;
    const length = id.length;
    const digits = length - prefix.length;
    if (digits < 1 || digits > MAX_ORDINAL_DIGITS || !id.startsWith(prefix)) return -1;
    let ordinal = 0;
    for (let index = prefix.length; index < length; index += 1) {
      const code = id.charCodeAt(index);
      let digit: number;
      if (code >= 48 && code <= 57) digit = code - 48;
      else if (code >= 97 && code <= 122) digit = code - 87;
      else return -1;
      if (digit === 0 && index === prefix.length && digits > 1) return -1;
      ordinal = ordinal * 36 + digit;
    }
    return ordinal;
  }
}
