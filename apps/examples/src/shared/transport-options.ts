import type { Argv } from 'yargs';
import { resolveUserPath } from './resolve-user-path.js';
import { UsageError } from './usage-error.js';

/** The switches every example shares: where its tasks run (PyMW's -i, -n, -p) and how it reports. */
export interface TransportArguments {
  transport: 'local' | 'boinc';
  workers: number | undefined;
  'project-home': string | undefined;
  url: string | undefined;
  authenticator: string | undefined;
  batch: string | undefined;
  app: string | undefined;
  'state-directory': string | undefined;
  'app-version': number | undefined;
  'poll-interval': number | undefined;
  detach: boolean;
  'rsc-fpops-est': number | undefined;
  'delay-bound': number | undefined;
  'min-quorum': number | undefined;
  json: boolean;
}

/** BOINC's per-job options the examples pass on (the transport checks them). */
export interface ExampleJobOptions {
  /** Estimated floating-point operations of one task (BOINC's rsc_fpops_est); default: the example's own estimate. */
  readonly rscFpopsEst?: number;
  /** Seconds a volunteer has to return a task (BOINC's delay_bound). */
  readonly delayBound?: number;
  /** Matching results that make a task's result valid (BOINC's min_quorum). */
  readonly minQuorum?: number;
}

/** What a runner needs to know about where its tasks run, as plain options (no yargs). */
export interface TransportSettings {
  readonly transport: 'local' | 'boinc';
  /** Worker threads of the local transport (default: this machine's cores). */
  readonly workers?: number;
  /** A BOINC project directory on this host (the master runs on the BOINC server). */
  readonly projectHome?: string;
  /** A BOINC project's URL (the master runs elsewhere and submits remotely). */
  readonly url?: string;
  /** The account key for `url`; read from TSMW_BOINC_AUTHENTICATOR, never printed. */
  readonly authenticator?: string;
  /** The name of this run's work; on BOINC, running again with the same name re-attaches to it. */
  readonly batch?: string;
  /** The BOINC app the tasks run as (default: the example's name). */
  readonly app?: string;
  /** Remotely: where the batches' records live on this machine. */
  readonly stateDirectory?: string;
  /** Remotely: run the jobs with this app version only. */
  readonly appVersion?: number;
  /** Remotely: the first wait between polls for results, seconds. */
  readonly pollInterval?: number;
  /** Submit the tasks and stop without waiting for results (BOINC): the same command run again collects them. */
  readonly detach?: boolean;
  readonly jobOptions?: ExampleJobOptions;
  /** Where BOINC warnings go (default: stderr, one line each). */
  readonly onWarning?: (message: string) => void;
}

/** The environment variable the BOINC account key is read from. */
export const authenticatorVariable = 'TSMW_BOINC_AUTHENTICATOR';

const group = 'Where tasks run:';
const boincGroup = 'On BOINC (-i boinc):';

/** Adds the shared switches to an example's command. */
export function withTransportOptions<T>(yargs: Argv<T>): Argv<T & TransportArguments> {
  return yargs
    .option('transport', { alias: 'i', choices: ['local', 'boinc'] as const, default: 'local' as const, group, describe: 'local: worker threads here; boinc: a BOINC project (PyMW -i)' })
    .option('workers', { alias: 'n', type: 'number', group, describe: "Worker threads of the local transport [default: this machine's cores]" })
    .option('project-home', { alias: 'p', type: 'string', group: boincGroup, describe: 'BOINC project directory, when the master runs on the BOINC server' })
    .option('url', { type: 'string', group: boincGroup, describe: `BOINC project URL, when the master runs elsewhere (the account key comes from $${authenticatorVariable})` })
    // Refused, not taken: a key on the command line shows in `ps` to every user of the machine.
    .option('authenticator', { type: 'string', hidden: true })
    .option('app', { type: 'string', group: boincGroup, describe: "The BOINC app set up by tsmw-setup [default: the example's name]" })
    .option('batch', { type: 'string', group: boincGroup, describe: 'Name of this work; run again with the same name to re-attach [default: the example, a hash of its switches]' })
    .option('detach', { type: 'boolean', default: false, group: boincGroup, describe: 'Submit the tasks and stop; run the same command again to collect' })
    .option('rsc-fpops-est', { type: 'number', group: boincGroup, describe: "Estimated operations of one task [default: the example's estimate]" })
    .option('delay-bound', { type: 'number', group: boincGroup, describe: "Seconds a volunteer has to return a task [default: BOINC's]" })
    .option('min-quorum', { type: 'number', group: boincGroup, describe: 'Matching results that make a result valid [default: 1]' })
    .option('state-directory', { type: 'string', group: boincGroup, describe: 'With --url: where batches are recorded [default: ~/.local/state/tsmw]' })
    .option('app-version', { type: 'number', group: boincGroup, describe: 'With --url: run the jobs with this app version only (e.g. 101)' })
    .option('poll-interval', { type: 'number', group: boincGroup, describe: 'With --url: first wait between polls for results, s [default: 10]' })
    .option('json', { type: 'boolean', default: false, group: 'Output:', describe: 'Print one JSON object instead of text (and no progress bar)' })
    .conflicts('project-home', 'url') as unknown as Argv<T & TransportArguments>;
}

/** The settings a runner takes, from parsed switches and the environment (paths resolved from where the user ran the command). */
export function transportSettingsFrom(argv: TransportArguments, environment: NodeJS.ProcessEnv = process.env): TransportSettings {
  if (argv.authenticator !== undefined) {
    throw new UsageError(`--authenticator is not taken on the command line, where ps shows it to every user: set $${authenticatorVariable} instead`);
  }
  const authenticator = environment[authenticatorVariable];
  const jobOptions: ExampleJobOptions = {
    ...(argv['rsc-fpops-est'] === undefined ? {} : { rscFpopsEst: argv['rsc-fpops-est'] }),
    ...(argv['delay-bound'] === undefined ? {} : { delayBound: argv['delay-bound'] }),
    ...(argv['min-quorum'] === undefined ? {} : { minQuorum: argv['min-quorum'] }),
  };
  return {
    transport: argv.transport,
    ...(argv.workers === undefined ? {} : { workers: argv.workers }),
    ...(argv['project-home'] === undefined ? {} : { projectHome: resolveUserPath(argv['project-home'], environment) }),
    ...(argv.url === undefined ? {} : { url: argv.url }),
    ...(authenticator === undefined || authenticator === '' ? {} : { authenticator }),
    ...(argv.batch === undefined ? {} : { batch: argv.batch }),
    ...(argv.app === undefined ? {} : { app: argv.app }),
    ...(argv['state-directory'] === undefined ? {} : { stateDirectory: resolveUserPath(argv['state-directory'], environment) }),
    ...(argv['app-version'] === undefined ? {} : { appVersion: argv['app-version'] }),
    ...(argv['poll-interval'] === undefined ? {} : { pollInterval: argv['poll-interval'] }),
    ...(argv.detach ? { detach: true } : {}),
    ...(Object.keys(jobOptions).length === 0 ? {} : { jobOptions }),
  };
}
