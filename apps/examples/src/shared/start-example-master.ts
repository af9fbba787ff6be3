import { createHash } from 'node:crypto';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { assertBatchName, createMaster, InvalidArgumentError, type Master, type TaskDefinition, type TaskInput, type TaskOutput, type Transport } from '@tsmw/core';
import { assertAppName, createBoincTransport } from '@tsmw/transport-boinc';
import { createLocalTransport } from '@tsmw/transport-local';
import type { ExampleJobOptions, TransportSettings } from './transport-options.js';
import { UsageError } from './usage-error.js';

/** What an example tells the shared code about its run. */
export interface ExampleRun {
  /** The example's name: the default BOINC app, and the start of the default batch name. */
  readonly example: string;
  /**
   * The switches that decide what the tasks compute (not where or how they run): the default
   * batch name is the example's name and a hash of these, so the same command run again finds
   * its batch, and other work gets another batch.
   */
  readonly work: Readonly<Record<string, unknown>>;
  /** The example's estimate of one task's floating-point operations (BOINC's rsc_fpops_est). */
  readonly fpopsPerTask?: number;
}

/** Where a BOINC master sends its tasks, as the reports say it (the authenticator is never part of it). */
export interface BoincDestination {
  readonly app: string;
  /** The project directory (on the server) or URL (remotely). */
  readonly project: string;
  readonly mode: 'on-server' | 'remote';
}

/** A started master, with what the reports say about where its tasks ran. */
export interface ExampleMaster {
  readonly master: Master;
  readonly transport: Transport;
  /** Worker threads of the local transport; `undefined` on BOINC (volunteers' hosts come and go). */
  readonly workers: number | undefined;
  /** The batch name (always set on BOINC). */
  readonly batch: string | undefined;
  /** Set on BOINC. */
  readonly boinc: BoincDestination | undefined;
  /** Submit and stop without waiting (`--detach`). */
  readonly detach: boolean;
}

/** The switches only BOINC takes, by the settings' names. */
const boincOnly: ReadonlyArray<readonly [keyof TransportSettings, string]> = [
  ['projectHome', '--project-home'],
  ['url', '--url'],
  ['app', '--app'],
  ['stateDirectory', '--state-directory'],
  ['appVersion', '--app-version'],
  ['pollInterval', '--poll-interval'],
  ['detach', '--detach'],
  ['jobOptions', '--rsc-fpops-est, --delay-bound or --min-quorum'],
];

/**
 * Worker threads the run will have: the local transport's count (checked), `undefined` on BOINC.
 * Refuses switches that the chosen transport does not take.
 */
export function exampleWorkers(settings: TransportSettings): number | undefined {
  if (settings.transport === 'boinc') {
    if (settings.workers !== undefined) throw new UsageError("--workers is for the local transport; on BOINC the volunteers' hosts run the tasks");
    return undefined;
  }
  for (const [name, flag] of boincOnly) {
    if (settings[name] !== undefined) throw new UsageError(`${flag} is for --transport boinc; the local transport runs tasks on this machine`);
  }
  const workers = settings.workers ?? availableParallelism();
  if (!Number.isSafeInteger(workers) || workers < 1) throw new UsageError(`--workers must be a whole number >= 1, not ${settings.workers}`);
  return workers;
}

/** `$TSMW_STATE_DIR`, else `$XDG_STATE_HOME/tsmw`, else `~/.local/state/tsmw`: where a remote master records its batches. */
export function defaultStateDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  const explicit = environment['TSMW_STATE_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = environment['XDG_STATE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'state'), 'tsmw');
}

/**
 * The batch of a run: `--batch`, else on BOINC `<example>-<10 hex digits>`, a hash of the work's
 * switches, the app and the project (so the same command finds its batch again, and the same
 * work sent elsewhere does not collide with it). Locally without `--batch`: none.
 */
export function exampleBatch(settings: TransportSettings, run: ExampleRun): string | undefined {
  if (settings.batch !== undefined) {
    try {
      assertBatchName(settings.batch);
    } catch (error) {
      throw new UsageError(`--batch: ${InvalidArgumentError.isInstance(error) ? error.message : String(error)}`);
    }
    return settings.batch;
  }
  if (settings.transport !== 'boinc') return undefined;
  const destination = boincDestination(settings, run);
  const identity = JSON.stringify({ work: sortKeys(run.work), app: destination.app, project: destination.project });
  return `${run.example}-${createHash('sha256').update(identity).digest('hex').slice(0, 10)}`;
}

/** A whole number from 0 to 2^31 - 1 that a batch name always gives: the seed of a BOINC run without `--seed`. */
export function seedFromBatch(batch: string): number {
  return createHash('sha256').update(`seed:${batch}`).digest().readUInt32BE(0) & 0x7fffffff;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, entry]) => [key, sortKeys(entry)]),
  );
}

function boincDestination(settings: TransportSettings, run: ExampleRun): BoincDestination {
  const app = settings.app ?? run.example;
  try {
    assertAppName(app);
  } catch (error) {
    throw new UsageError(`--app: ${(error as Error).message}`);
  }
  if (settings.projectHome !== undefined) {
    if (settings.url !== undefined) throw new UsageError('Give --project-home (a master on the BOINC server) or --url (a master elsewhere), not both');
    for (const [name, flag] of [['stateDirectory', '--state-directory'], ['appVersion', '--app-version'], ['pollInterval', '--poll-interval']] as const) {
      if (settings[name] !== undefined) throw new UsageError(`${flag} is for a master that submits remotely (--url); on the server the transport reads the project itself`);
    }
    return { app, project: settings.projectHome, mode: 'on-server' };
  }
  if (settings.url === undefined) {
    throw new UsageError('--transport boinc needs --project-home DIR (a master on the BOINC server) or --url URL (a master elsewhere)');
  }
  let url: URL;
  try {
    url = new URL(settings.url);
  } catch {
    throw new UsageError(`--url must be the project's URL, such as https://boinc.example.org/project/, not ${JSON.stringify(settings.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http or https URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new UsageError('--url must not carry a user name or password: the account key comes from $TSMW_BOINC_AUTHENTICATOR');
  return { app, project: url.href, mode: 'remote' };
}

function checkJobOptions(options: ExampleJobOptions): void {
  const { rscFpopsEst, delayBound, minQuorum } = options;
  if (rscFpopsEst !== undefined && !(Number.isFinite(rscFpopsEst) && rscFpopsEst > 0)) throw new UsageError(`--rsc-fpops-est must be a number above 0, not ${rscFpopsEst}`);
  for (const [value, flag] of [[delayBound, '--delay-bound'], [minQuorum, '--min-quorum']] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1 && value < 2 ** 31)) throw new UsageError(`${flag} must be a whole number >= 1, not ${value}`);
  }
}

/** Checks the switches and makes the transport they name; refuses what cannot run with a `UsageError`. */
export function createExampleTransport(settings: TransportSettings, run: ExampleRun): { transport: Transport; workers: number | undefined; boinc: BoincDestination | undefined } {
  const workers = exampleWorkers(settings);
  if (settings.transport !== 'boinc') return { transport: createLocalTransport({ workers: workers! }), workers, boinc: undefined };
  const destination = boincDestination(settings, run);
  const jobOptions = { ...(run.fpopsPerTask === undefined ? {} : { rscFpopsEst: Math.max(1, Math.round(run.fpopsPerTask)) }), ...settings.jobOptions };
  checkJobOptions(jobOptions);
  const onWarning = settings.onWarning ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  if (destination.mode === 'on-server') {
    return { transport: createBoincTransport({ app: destination.app, projectHome: destination.project, onWarning }, jobOptions), workers, boinc: destination };
  }
  if (settings.authenticator === undefined) {
    throw new UsageError('--url needs the key of an account with submit rights: set TSMW_BOINC_AUTHENTICATOR');
  }
  if (settings.appVersion !== undefined && !(Number.isSafeInteger(settings.appVersion) && settings.appVersion >= 1)) {
    throw new UsageError(`--app-version must be a whole number >= 1 (1.01 is 101), not ${settings.appVersion}`);
  }
  if (settings.pollInterval !== undefined && !(Number.isFinite(settings.pollInterval) && settings.pollInterval > 0)) {
    throw new UsageError(`--poll-interval must be a number of seconds above 0, not ${settings.pollInterval}`);
  }
  const pollIntervalMs = settings.pollInterval === undefined ? undefined : Math.ceil(settings.pollInterval * 1000);
  const transport = createBoincTransport(
    {
      app: destination.app,
      url: destination.project,
      authenticator: settings.authenticator,
      stateDirectory: settings.stateDirectory ?? defaultStateDirectory(),
      onWarning,
      ...(settings.appVersion === undefined ? {} : { appVersionNum: settings.appVersion }),
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs, maxPollIntervalMs: Math.max(pollIntervalMs, 300_000) }),
    },
    jobOptions,
  );
  return { transport, workers, boinc: destination };
}

/**
 * Starts a master on the transport the switches name, for the task module at `tasks` (a URL
 * beside the built example, as workers load it).
 */
export async function startExampleMaster(settings: TransportSettings, tasks: URL, run: ExampleRun): Promise<ExampleMaster> {
  const batch = exampleBatch(settings, run);
  const { transport, workers, boinc } = createExampleTransport(settings, run);
  if (settings.detach === true && boinc === undefined) throw new UsageError('--detach is for --transport boinc');
  const master = await createMaster({ transport, tasks, ...(batch === undefined ? {} : { batch }) });
  return { master, transport, workers, batch, boinc, detach: settings.detach === true };
}

/**
 * Runs a task over every input (`map`, keyed `<keyPrefix><index>`), or with `--detach` submits
 * them under the same keys and stops the master without waiting: the same command run again
 * attaches to those tasks by key and collects their results. `undefined` when detached.
 */
export async function mapOrDetach<Task extends TaskDefinition<never, unknown>>(
  example: ExampleMaster,
  task: Task,
  inputs: readonly TaskInput<Task>[],
  keyPrefix: string,
): Promise<Array<TaskOutput<Task>> | undefined> {
  if (!example.detach) return example.master.map(task, inputs, { keyPrefix });
  await submitAll(example, task, inputs, keyPrefix);
  await example.master.detach();
  return undefined;
}

/** Submits every input keyed `<keyPrefix><index>`, as `map` keys them (for `--detach`). */
export async function submitAll<Task extends TaskDefinition<never, unknown>>(example: ExampleMaster, task: Task, inputs: readonly TaskInput<Task>[], keyPrefix: string): Promise<void> {
  // Bound: the master's methods use `this`.
  const submit = example.master.submit.bind(example.master) as (task: Task, input: TaskInput<Task>, options: { key: string }) => Promise<unknown>;
  await Promise.all(inputs.map((input, index) => submit(task, input, { key: `${keyPrefix}${index}` })));
}

/** Checks that a numeric switch is a whole number in range; the message names the switch. */
export function wholeNumber(value: number, name: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    const range = maximum === Number.MAX_SAFE_INTEGER ? `>= ${minimum}` : `from ${minimum} to ${maximum}`;
    throw new UsageError(`${name} must be a whole number ${range}, not ${value}`);
  }
  return value;
}
