/** BOINC's workunit error bits (`db/boinc_db_types.h`), named as `query_batch` prints them. */
export const workunitErrorBits = {
  couldnt_send_result: 1,
  too_many_error_results: 2,
  too_many_success_results: 4,
  too_many_total_results: 8,
  cancelled: 16,
  no_canonical_result: 32,
} as const;

/** The names of the bits set in a workunit's `error_mask`; unknown bits as `bit_<n>`. */
export function workunitErrorNames(errorMask: number): string[] {
  const names: string[] = [];
  let rest = errorMask;
  for (const [name, bit] of Object.entries(workunitErrorBits)) {
    if ((errorMask & bit) !== 0) {
      names.push(name);
      rest &= ~bit;
    }
  }
  for (let bit = 64; rest > 0 && bit <= 0x40000000; bit *= 2) {
    if ((rest & bit) !== 0) {
      names.push(`bit_${bit}`);
      rest &= ~bit;
    }
  }
  return names;
}
