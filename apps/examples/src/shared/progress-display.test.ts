import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgressDisplay } from './progress-display.js';

/** A non-terminal stream that keeps what is written. */
function captureStream(): { stream: NodeJS.WriteStream; lines: () => string[] } {
  let text = '';
  const stream = { isTTY: false, write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WriteStream;
  return { stream, lines: () => text.split('\n').filter((line) => line !== '') };
}

describe('createProgressDisplay on a batch grid (not a terminal)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('prints the first count at once, then at most one line per interval with the latest count, and the last count at once', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 26, 14, 2, 7) });
    const { stream, lines } = captureStream();
    const display = createProgressDisplay(8, stream, { batch: true, lineIntervalMs: 10_000 });
    display.update(0);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatch(/^\d\d:\d\d:\d\d 0\/8 tasks done \(0%\)$/);
    display.update(1);
    display.update(2);
    expect(lines()).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    expect(lines()).toHaveLength(2);
    expect(lines()[1]).toMatch(/ 2\/8 tasks done \(25%\)$/);
    vi.advanceTimersByTime(30_000); // nothing new: nothing printed
    expect(lines()).toHaveLength(2);
    display.update(3);
    expect(lines()).toHaveLength(3);
    expect(lines()[2]).toMatch(/ 3\/8 tasks done \(37%\)$/);
    display.update(5);
    expect(lines()).toHaveLength(3); // a line is pending: the interval has not passed
    display.update(8); // the last count does not wait
    expect(lines()).toHaveLength(4);
    expect(lines()[3]).toMatch(/ 8\/8 tasks done \(100%\)$/);
    display.finish();
    expect(lines()).toHaveLength(4);
    vi.advanceTimersByTime(60_000);
    expect(lines()).toHaveLength(4);
  });

  it('counts another unit, and without batch prints a line per tenth', () => {
    const { stream, lines } = captureStream();
    const display = createProgressDisplay(4, stream, { unit: 'tiles' });
    for (let done = 0; done <= 4; done++) display.update(done);
    display.finish();
    expect(lines().every((line) => line.includes('tiles done'))).toBe(true);
    expect(lines().at(-1)).toContain('4/4 tiles done');
  });
});
