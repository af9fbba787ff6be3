/** Splits the whole numbers from `first` to `last` (inclusive) into `parts` consecutive ranges whose sizes differ by at most one. */
export function splitRange(first: number, last: number, parts: number): Array<{ from: number; to: number }> {
  const size = last - first + 1;
  const count = Math.min(parts, size);
  const ranges: Array<{ from: number; to: number }> = [];
  let from = first;
  for (let index = 0; index < count; index += 1) {
    const length = Math.floor(size / count) + (index < size % count ? 1 : 0);
    ranges.push({ from, to: from + length - 1 });
    from += length;
  }
  return ranges;
}
