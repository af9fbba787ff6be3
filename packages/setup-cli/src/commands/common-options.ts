import type { Argv } from 'yargs';
import { tsmwPlatforms } from '@tsmw/transport-boinc';

/** `--project`, `--app`, `--dry-run`, `--json`: the options of every command that changes a project. */
export function projectOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('project', { alias: 'p', type: 'string', demandOption: true, describe: 'the BOINC project directory (with config.xml and project.xml)' })
    .option('app', { alias: 'a', type: 'string', demandOption: true, describe: 'the BOINC app name (letters, digits, "_", ".", "-")' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print a unified diff of every file and each command it would run; change nothing' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (the report, or {ok:false,error}) on stdout' });
}

/** `--tasks`, `--platforms`, `--node`, `--cache`, `--registry`: what goes into an app version. */
export function appVersionOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('tasks', { alias: 't', type: 'string', demandOption: true, describe: 'the task module (.ts or .js): bundled with its imports into one file' })
    .option('platforms', { type: 'string', describe: `comma-separated BOINC platforms (default: all: ${tsmwPlatforms.join(',')})` })
    .option('cache', { type: 'string', describe: 'where Node.js downloads are kept (default $TSMW_CACHE_DIR, else ~/.cache/tsmw)' })
    .option('registry', { type: 'string', describe: 'the npm registry to download Node.js from (default: npm\'s configured one, else the public registry)' });
}

export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
