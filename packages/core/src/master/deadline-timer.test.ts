import { describe, expect, it } from 'vitest';
import { DeadlineTimer, MAX_TIMER_DELAY_MS } from './deadline-timer.js';

interface Item {
  name: string;
  deadline: number | undefined;
  heapIndex: number;
}
const item = (name: string, deadline: number): Item => ({ name, deadline, heapIndex: -1 });

describe('DeadlineTimer', () => {
  it('fires items in deadline order with one timer, and not before their time', async () => {
    const fired: string[] = [];
    let done: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const timer = new DeadlineTimer<Item>((expired) => {
      fired.push(expired.name);
      if (fired.length === 3) done();
    });
    const now = Date.now();
    timer.add(item('third', now + 30));
    timer.add(item('first', now + 5));
    const removed = item('removed', now + 10);
    timer.add(removed);
    timer.add(item('second', now + 20));
    timer.remove(removed);
    expect(timer.size).toBe(3);
    await finished;
    expect(fired).toEqual(['first', 'second', 'third']);
    expect(timer.size).toBe(0);
  });

  it('keeps a deadline beyond the 2^31-1 ms Node allows (it used to fire after 1 ms)', async () => {
    const fired: string[] = [];
    let nearFired: () => void;
    const near = new Promise<void>((resolve) => (nearFired = resolve));
    const timer = new DeadlineTimer<Item>((expired) => {
      fired.push(expired.name);
      if (expired.name === 'near') nearFired();
    });
    const now = Date.now();
    timer.add(item('far', now + MAX_TIMER_DELAY_MS + 60_000)); // 24.8 days and a minute
    timer.add(item('near', now + 40));
    await near;
    expect(fired).toEqual(['near']);
    timer.clear();
  });

  it('re-arms a clamped timer until the far deadline (a clock that jumps stands in for weeks)', async () => {
    let clock = 0;
    const fired: string[] = [];
    let done: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const timer = new DeadlineTimer<Item>((expired) => {
      fired.push(expired.name);
      done();
    }, () => clock);
    timer.add(item('far', 3 * MAX_TIMER_DELAY_MS));
    // The timer is armed for at most MAX_TIMER_DELAY_MS; when the clock says the deadline passed, the next firing takes it.
    clock = 3 * MAX_TIMER_DELAY_MS;
    timer.add(item('now', 0)); // arms a timer that fires at once and sweeps both
    await finished;
    expect(fired).toEqual(['now', 'far']);
  });
});
