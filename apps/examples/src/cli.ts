#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { montePiCommand } from './monte-pi/monte-pi-command.js';
import { UsageError } from './monte-pi/run-monte-pi.js';

try {
  await yargs(hideBin(process.argv))
    .scriptName('npm run example --')
    .command(montePiCommand)
    .demandCommand(1, 'Name an example to run, for example: monte-pi')
    .strict()
    .help()
    .fail((message, error) => {
      if (error !== undefined && error !== null) throw error;
      process.stderr.write(`${message}\nRun with --help for the switches.\n`);
      process.exit(2);
    })
    .parseAsync();
} catch (error) {
  const message = error instanceof UsageError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
