import type { Argv } from 'yargs';

/** The switches every example shares: where its tasks run (PyMW's -i, -n, -p) and how it reports. */
export interface TransportArguments {
  transport: 'local' | 'boinc';
  workers: number | undefined;
  'project-home': string | undefined;
  url: string | undefined;
  authenticator: string | undefined;
  batch: string | undefined;
  json: boolean;
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
}

/** The environment variable the BOINC account key is read from. */
export const authenticatorVariable = 'TSMW_BOINC_AUTHENTICATOR';

const group = 'Where tasks run:';

/** Adds the shared switches to an example's command. */
export function withTransportOptions<T>(yargs: Argv<T>): Argv<T & TransportArguments> {
  return yargs
    .option('transport', { alias: 'i', choices: ['local', 'boinc'] as const, default: 'local' as const, group, describe: 'local: worker threads here; boinc: a BOINC project (PyMW -i)' })
    .option('workers', { alias: 'n', type: 'number', group, describe: "Worker threads of the local transport [default: this machine's cores]" })
    .option('project-home', { alias: 'p', type: 'string', group, describe: 'BOINC project directory, when the master runs on the BOINC server' })
    .option('url', { type: 'string', group, describe: 'BOINC project URL, when the master runs elsewhere' })
    .option('authenticator', { type: 'string', group, describe: `BOINC account key for --url [default: $${authenticatorVariable}; prefer the variable]` })
    .option('batch', { type: 'string', group, describe: 'Name of this work; on BOINC, run again with the same name to re-attach' })
    .option('json', { type: 'boolean', default: false, group: 'Output:', describe: 'Print one JSON object instead of text (and no progress bar)' })
    .conflicts('project-home', 'url') as unknown as Argv<T & TransportArguments>;
}

/** The settings a runner takes, from parsed switches and the environment. */
export function transportSettingsFrom(argv: TransportArguments, environment: NodeJS.ProcessEnv = process.env): TransportSettings {
  const authenticator = argv.authenticator ?? environment[authenticatorVariable];
  return {
    transport: argv.transport,
    ...(argv.workers === undefined ? {} : { workers: argv.workers }),
    ...(argv['project-home'] === undefined ? {} : { projectHome: argv['project-home'] }),
    ...(argv.url === undefined ? {} : { url: argv.url }),
    ...(authenticator === undefined || authenticator === '' ? {} : { authenticator }),
    ...(argv.batch === undefined ? {} : { batch: argv.batch }),
  };
}
