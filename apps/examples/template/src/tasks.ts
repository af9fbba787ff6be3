// The task module: every worker loads this file, and the master imports it to name the tasks.
// Put each task here with defineTask; a task may import anything a Node program can.
import { defineTask } from '@tsmw/core';

export interface DartsInput {
  /** How many darts this task throws. */
  readonly darts: number;
  /** The seed of this task's random numbers, so that a run can be repeated. */
  readonly seed: number;
}

export interface DartsOutput {
  readonly darts: number;
  /** Darts that fell inside the quarter circle: hits / darts tends to pi / 4. */
  readonly hits: number;
}

export const throwDarts = defineTask('throw-darts', (input: DartsInput, context): DartsOutput => {
  let state = input.seed >>> 0 || 1;
  // xorshift32: small, fast and seedable (Math.random cannot be seeded).
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
  let hits = 0;
  for (let thrown = 0; thrown < input.darts; thrown += 1) {
    const x = random();
    const y = random();
    if (x * x + y * y <= 1) hits += 1;
    if (thrown % 1_000_000 === 999_999) {
      context.progress(thrown / input.darts); // seen by master.on('task-progress')
      context.signal.throwIfAborted(); // stop when the task is cancelled
    }
  }
  return { darts: input.darts, hits };
});
