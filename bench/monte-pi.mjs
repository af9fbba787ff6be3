// The CPU-bound work every variant of the benchmark runs: darts thrown at a unit square with a
// small xorshift generator (the same work for the same seed, whatever runs it).

/** How many of `darts` random points fall inside the quarter circle. */
export function countHits(darts, seed) {
  let state = seed >>> 0 || 1;
  let hits = 0;
  for (let dart = 0; dart < darts; dart += 1) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const x = state / 4294967296;
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const y = state / 4294967296;
    if (x * x + y * y <= 1) hits += 1;
  }
  return hits;
}
