/** The longest delay Node's timers take; longer ones fire after 1 ms (with a warning). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

interface Timed {
  deadline: number | undefined;
  heapIndex: number;
}

/**
 * Deadlines of many tasks with one timer: a binary min-heap by deadline and a single timer set
 * for the earliest, clamped to Node's limit and re-armed, so a deadline days or months away is
 * kept (a plain `setTimeout` above 2^31-1 ms fires at once). Adding and removing are O(log n).
 * The timer keeps the process alive, as any pending timeout does: a task whose only pending work
 * is its deadline (an in-process task awaiting something that never comes) must still time out,
 * not leave the program to end with code 13 at an unsettled `await`. `close()` clears it.
 */
export class DeadlineTimer<Item extends Timed> {
  private readonly heap: Item[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(
    private readonly onExpired: (item: Item) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Watches `item.deadline` (epoch ms). */
  add(item: Item): void {
    if (item.deadline === undefined || item.heapIndex >= 0) return;
    item.heapIndex = this.heap.length;
    this.heap.push(item);
    this.siftUp(item.heapIndex);
    this.arm();
  }

  remove(item: Item): void {
    const index = item.heapIndex;
    if (index < 0) return;
    item.heapIndex = -1;
    const last = this.heap.pop()!;
    if (index < this.heap.length) {
      this.heap[index] = last;
      last.heapIndex = index;
      this.siftDown(index);
      this.siftUp(last.heapIndex);
    }
    if (this.heap.length === 0) this.disarm();
  }

  /** Stops the timer and forgets every item. */
  clear(): void {
    for (const item of this.heap) item.heapIndex = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private arm(): void {
    const earliest = this.heap[0]?.deadline;
    if (earliest === undefined || earliest >= this.armedFor) return;
    this.disarm();
    this.armedFor = earliest;
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, earliest - this.now()));
    this.timer = setTimeout(this.fire, delay);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0]!.deadline! <= now) {
      const item = this.heap[0]!;
      this.remove(item);
      this.onExpired(item);
    }
    this.arm(); // the next deadline, or the rest of a long one (re-armed in steps of at most 2^31-1 ms)
  };

  private siftUp(index: number): void {
    const heap = this.heap;
    const item = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.deadline! <= item.deadline!) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.heapIndex = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const item = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right]!.deadline! < heap[left]!.deadline! ? right : left;
      if (heap[child]!.deadline! >= item.deadline!) break;
      heap[index] = heap[child]!;
      heap[index]!.heapIndex = index;
      index = child;
    }
    heap[index] = item;
    item.heapIndex = index;
  }
}
