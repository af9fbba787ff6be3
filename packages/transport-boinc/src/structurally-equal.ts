/**
 * The default comparison of two task outputs for BOINC's quorum: equal values of the same shape.
 * Numbers compare by value (`NaN` equals `NaN`, `-0` equals `0`); arrays, plain objects, `Map`,
 * `Set`, `Date`, `RegExp`, errors, typed arrays and `ArrayBuffer`s compare by content; other
 * objects by their own enumerable properties. Cycles cannot occur in decoded values.
 */
export function structurallyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let index = 0; index < a.length; index += 1) if (!structurallyEqual(a[index], other[index])) return false;
    return true;
  }
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime()) || a.getTime() === (b as Date).getTime();
  if (a instanceof RegExp) return a.source === (b as RegExp).source && a.flags === (b as RegExp).flags;
  if (ArrayBuffer.isView(a)) {
    const left = a as unknown as ArrayLike<number | bigint>;
    const right = b as unknown as ArrayLike<number | bigint>;
    if (left.length !== right.length) return false;
    for (let index = 0; index < left.length; index += 1) if (!structurallyEqual(left[index], right[index])) return false;
    return true;
  }
  if (a instanceof ArrayBuffer) return structurallyEqual(new Uint8Array(a), new Uint8Array(b as ArrayBuffer));
  if (a instanceof Map) {
    const other = b as Map<unknown, unknown>;
    if (a.size !== other.size) return false;
    for (const [key, value] of a) {
      if (other.has(key)) {
        if (!structurallyEqual(value, other.get(key))) return false;
        continue;
      }
      let found = false;
      for (const [otherKey, otherValue] of other) {
        if (structurallyEqual(key, otherKey) && structurallyEqual(value, otherValue)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
  if (a instanceof Set) {
    const other = b as Set<unknown>;
    if (a.size !== other.size) return false;
    outer: for (const value of a) {
      if (other.has(value)) continue;
      for (const otherValue of other) if (structurallyEqual(value, otherValue)) continue outer;
      return false;
    }
    return true;
  }
  if (a instanceof Error) {
    const other = b as Error;
    if (a.name !== other.name || a.message !== other.message) return false;
  }
  const keys = Object.keys(a);
  const otherKeys = Object.keys(b);
  if (keys.length !== otherKeys.length) return false;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) return false;
    if (!structurallyEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}
