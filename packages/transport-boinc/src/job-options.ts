import { InvalidArgumentError } from '@tsmw/core';

/**
 * BOINC's per-job parameters, in tsmw's names. Given to `createBoincTransport` for every job of
 * the transport, and per task through `submit(..., { hints })` (camelCase as here, or BOINC's own
 * snake_case names: `rsc_fpops_est`, `delay_bound`, ...). Absent values take BOINC's defaults,
 * except the quorum: tsmw runs each job once (`minQuorum` and `targetNresults` 1) unless told.
 */
export interface BoincJobOptions {
  /** Estimated floating-point operations of one job (BOINC's `rsc_fpops_est`): what hosts' schedulers plan with. */
  readonly rscFpopsEst?: number;
  /** The most floating-point operations a job may use before the client aborts it (`rsc_fpops_bound`). */
  readonly rscFpopsBound?: number;
  /** The most memory a job may use, bytes (`rsc_memory_bound`). */
  readonly rscMemoryBound?: number;
  /** The most disk a job may use, bytes (`rsc_disk_bound`). */
  readonly rscDiskBound?: number;
  /**
   * Seconds from sending a job to a host until the server gives up on that host (`delay_bound`).
   * A task with a deadline (a `timeoutMs`) gets at most the time left until it.
   */
  readonly delayBound?: number;
  /** Higher runs first (`priority`). */
  readonly priority?: number;
  /** How many matching results make a job valid (`min_quorum`); above 1, results are compared by decoded output. */
  readonly minQuorum?: number;
  /** How many copies are sent at first (`target_nresults`, at least `minQuorum`). */
  readonly targetNresults?: number;
  /** Errors after which BOINC gives up on a job (`max_error_results`). */
  readonly maxErrorResults?: number;
  /** Copies after which BOINC gives up on a job (`max_total_results`). */
  readonly maxTotalResults?: number;
  /** Valid but disagreeing results after which BOINC gives up (`max_success_results`). */
  readonly maxSuccessResults?: number;
  /** The largest result envelope a host may upload, bytes (the output template's `max_nbytes`). */
  readonly maxNbytes?: number;
}

type OptionKind = 'positive' | 'count' | 'integer';
const optionKinds: Record<keyof BoincJobOptions, OptionKind> = {
  rscFpopsEst: 'positive',
  rscFpopsBound: 'positive',
  rscMemoryBound: 'positive',
  rscDiskBound: 'positive',
  delayBound: 'count',
  priority: 'integer',
  minQuorum: 'count',
  targetNresults: 'count',
  maxErrorResults: 'count',
  maxTotalResults: 'count',
  maxSuccessResults: 'count',
  maxNbytes: 'count',
};

/** BOINC's name of each option (as `create_work` and `submit_batch` spell them). */
export const boincOptionNames: Record<keyof BoincJobOptions, string> = {
  rscFpopsEst: 'rsc_fpops_est',
  rscFpopsBound: 'rsc_fpops_bound',
  rscMemoryBound: 'rsc_memory_bound',
  rscDiskBound: 'rsc_disk_bound',
  delayBound: 'delay_bound',
  priority: 'priority',
  minQuorum: 'min_quorum',
  targetNresults: 'target_nresults',
  maxErrorResults: 'max_error_results',
  maxTotalResults: 'max_total_results',
  maxSuccessResults: 'max_success_results',
  maxNbytes: 'max_nbytes',
};

const bySnakeName = new Map(Object.entries(boincOptionNames).map(([camel, snake]) => [snake, camel as keyof BoincJobOptions]));

/**
 * Checks job options (from the transport's options or a task's hints); every defect is an
 * `InvalidArgumentError` naming the option and where it came from.
 */
export function checkJobOptions(options: Readonly<Record<string, unknown>> | undefined, where: string): BoincJobOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`${where} must be an object of BOINC job options`);
  const checked: Record<string, number> = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const option = (name in optionKinds ? name : bySnakeName.get(name)) as keyof BoincJobOptions | undefined;
    if (option === undefined) {
      throw new InvalidArgumentError(`${where}: ${JSON.stringify(name)} is not a BOINC job option (use ${Object.keys(optionKinds).join(', ')})`);
    }
    if (option in checked) throw new InvalidArgumentError(`${where}: ${option} is given twice (as ${option} and ${boincOptionNames[option]})`);
    const kind = optionKinds[option];
    const valid =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (kind === 'positive' ? value > 0 : kind === 'count' ? Number.isSafeInteger(value) && value >= 1 : Number.isSafeInteger(value) && Math.abs(value) < 2 ** 31);
    if (!valid) {
      const rule = kind === 'positive' ? 'a positive number' : kind === 'count' ? 'a whole number >= 1' : 'a whole number';
      throw new InvalidArgumentError(`${where}: ${option} must be ${rule}, not ${typeof value === 'number' ? value : JSON.stringify(value)}`);
    }
    if (kind !== 'positive' && value >= 2 ** 31 && option !== 'maxNbytes') throw new InvalidArgumentError(`${where}: ${option} is above BOINC's limit (2^31 - 1)`);
    checked[option] = value as number;
  }
  return checked as BoincJobOptions;
}

/** Job options with the quorum and result bounds always set. */
export type ResolvedJobOptions = BoincJobOptions & Required<Pick<BoincJobOptions, 'minQuorum' | 'targetNresults' | 'maxErrorResults' | 'maxSuccessResults' | 'maxTotalResults'>>;

/**
 * The options of one job: the task's hints over the transport's options; a deadline bounds
 * `delayBound` (unless the task's hints set it). Defaults: `minQuorum` 1, `targetNresults`
 * `minQuorum`, `maxErrorResults` 3, `maxSuccessResults` `targetNresults + 2`, `maxTotalResults`
 * `maxErrorResults + maxSuccessResults`.
 */
export function resolveJobOptions(base: BoincJobOptions, hints: BoincJobOptions, deadline: number | undefined, now: number): ResolvedJobOptions {
  const merged: { -readonly [Key in keyof BoincJobOptions]?: number } & { minQuorum: number; targetNresults: number; maxErrorResults: number; maxSuccessResults: number; maxTotalResults: number } = {
    ...(base as Record<string, number>),
    ...(hints as Record<string, number>),
  } as never;
  merged.minQuorum ??= 1;
  merged.targetNresults ??= merged.minQuorum;
  // BOINC refuses a job whose bounds contradict (max_error_results or max_success_results above
  // max_total_results, target_nresults above max_success_results), and its own defaults differ
  // between versions: tsmw always passes all three.
  merged.maxErrorResults ??= 3;
  merged.maxSuccessResults ??= merged.targetNresults + 2;
  merged.maxTotalResults ??= Math.max(merged.maxErrorResults + merged.maxSuccessResults, merged.targetNresults);
  if (deadline !== undefined && hints.delayBound === undefined) {
    const left = Math.max(60, Math.floor((deadline - now) / 1000));
    // Deadlines a few milliseconds apart must not split a chunk: whole minutes above ten minutes.
    const bound = left >= 600 ? left - (left % 60) : left;
    merged.delayBound = Math.min(base.delayBound ?? bound, bound);
  }
  const quorum = merged.minQuorum;
  if (merged.targetNresults < quorum) {
    throw new InvalidArgumentError(`targetNresults (${merged.targetNresults}) must be at least minQuorum (${quorum}): BOINC sends that many copies at first`);
  }
  if (merged.maxSuccessResults < merged.targetNresults) {
    throw new InvalidArgumentError(`maxSuccessResults (${merged.maxSuccessResults}) must be at least targetNresults (${merged.targetNresults}): BOINC refuses such a job`);
  }
  if (merged.maxTotalResults < merged.targetNresults) {
    throw new InvalidArgumentError(`maxTotalResults (${merged.maxTotalResults}) must be at least targetNresults (${merged.targetNresults})`);
  }
  if (merged.maxTotalResults < merged.maxErrorResults || merged.maxTotalResults < merged.maxSuccessResults) {
    throw new InvalidArgumentError(
      `maxTotalResults (${merged.maxTotalResults}) must be at least maxErrorResults (${merged.maxErrorResults}) and maxSuccessResults (${merged.maxSuccessResults}): BOINC refuses such a job`,
    );
  }
  return merged;
}

/** The option values as `create_work` arguments (`--rsc_fpops_est 1e12 --min_quorum 1 ...`), in a fixed order; `maxNbytes` goes to the output template instead. */
export function createWorkArguments(options: BoincJobOptions): string[] {
  const argumentsList: string[] = [];
  for (const option of Object.keys(boincOptionNames) as Array<keyof BoincJobOptions>) {
    const value = options[option];
    if (value === undefined || option === 'maxNbytes') continue;
    argumentsList.push(`--${boincOptionNames[option]}`, formatNumber(value));
  }
  return argumentsList;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e15 ? String(value) : value.toExponential();
}
