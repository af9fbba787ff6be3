// How the benchmarks drive tasks: all started at once, or a window of them in flight. Each task is
// `runOne(index)`, a promise of a number; both return the sum of the results.

/** Runs `total` tasks, all started at once; returns the sum of their results. */
export async function allAtOnce(total, runOne) {
  const promises = new Array(total);
  for (let index = 0; index < total; index += 1) promises[index] = runOne(index);
  let sum = 0;
  for (const value of await Promise.all(promises)) sum += value;
  return sum;
}

/** Runs `total` tasks with at most `window` started and unfinished; returns the sum of their results. */
export function windowed(total, window, runOne) {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    let sum = 0;
    const launch = () => {
      const index = next++;
      runOne(index).then((value) => {
        sum += value;
        done += 1;
        if (next < total) launch();
        else if (done === total) resolve(sum);
      }, reject);
    };
    for (let started = 0; started < Math.min(window, total); started += 1) launch();
  });
}
