import { describe, expect, it } from 'vitest';
import { isSettledState, nextTaskState, taskEvents, taskStates, TaskStateCounts, type TaskEvent, type TaskState } from './task-states.js';

// The whole life of a task, written out once more by hand: every state against every event.
// `-` means the event does not apply (the master ignores it).
const expected: Record<TaskState, Record<TaskEvent, TaskState | '-'>> = {
  queued: { dispatch: 'dispatched', start: '-', complete: 'completed', retry: '-', fail: 'failed', 'time-out': '-', cancel: 'cancelled', close: 'cancelled', 'transport-end': 'failed' },
  dispatched: { dispatch: '-', start: 'running', complete: 'completed', retry: 'queued', fail: 'failed', 'time-out': 'failed', cancel: 'cancelled', close: 'failed', 'transport-end': 'failed' },
  running: { dispatch: '-', start: '-', complete: 'completed', retry: 'queued', fail: 'failed', 'time-out': 'failed', cancel: 'cancelled', close: 'failed', 'transport-end': 'failed' },
  completed: { dispatch: '-', start: '-', complete: '-', retry: '-', fail: '-', 'time-out': '-', cancel: '-', close: '-', 'transport-end': '-' },
  failed: { dispatch: '-', start: '-', complete: '-', retry: '-', fail: '-', 'time-out': '-', cancel: '-', close: '-', 'transport-end': '-' },
  cancelled: { dispatch: '-', start: '-', complete: '-', retry: '-', fail: '-', 'time-out': '-', cancel: '-', close: '-', 'transport-end': '-' },
};

describe('the task state machine', () => {
  for (const state of taskStates) {
    for (const event of taskEvents) {
      const next = expected[state][event];
      it(`${state} --${event}--> ${next}`, () => {
        expect(nextTaskState(state, event) ?? '-').toBe(next);
      });
    }
  }

  it('settled states are exactly completed, failed and cancelled, and nothing leaves them', () => {
    expect(taskStates.filter(isSettledState)).toEqual(['completed', 'failed', 'cancelled']);
  });

  it('counts follow the transitions: every task is counted in exactly one state', () => {
    const counts = new TaskStateCounts();
    const path: Array<[TaskState, TaskEvent]> = [
      ['queued', 'dispatch'],
      ['dispatched', 'start'],
      ['running', 'retry'],
      ['queued', 'dispatch'],
      ['dispatched', 'complete'],
    ];
    counts.enter('queued');
    counts.enter('queued');
    for (const [from, event] of path) counts.move(from, nextTaskState(from, event)!);
    counts.move('queued', nextTaskState('queued', 'cancel')!);
    expect({ ...counts, inFlight: counts.inFlight, open: counts.open }).toEqual({
      queued: 0,
      dispatched: 0,
      running: 0,
      completed: 1,
      failed: 0,
      cancelled: 1,
      inFlight: 0,
      open: 0,
    });
  });
});
