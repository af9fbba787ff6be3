#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { checkpointDemoCommand } from './checkpoint-demo/checkpoint-demo-command.js';
import { mandelbrotCommand } from './mandelbrot/mandelbrot-command.js';
import { montePiCommand } from './monte-pi/monte-pi-command.js';
import { nullTestCommand } from './null-test/null-test-command.js';
import { primeFinderCommand } from './prime-finder/prime-finder-command.js';
import { UsageError } from './shared/usage-error.js';
import { wordCountCommand } from './word-count/word-count-command.js';

try {
  await yargs(hideBin(process.argv))
    .scriptName('npm run example --')
    .usage('$0 <example> [switches]\n\nRuns one of the tsmw examples. `$0 <example> --help` shows its switches.')
    .command(montePiCommand)
    .command(primeFinderCommand)
    .command(mandelbrotCommand)
    .command(wordCountCommand)
    .command(checkpointDemoCommand)
    .command(nullTestCommand)
    .demandCommand(1, 'Name an example to run, for example: monte-pi')
    .strict()
    .help()
    .version(false)
    .fail((message, error) => {
      if (error !== undefined && error !== null) throw error;
      process.stderr.write(`${message.split('\n')[0]} (--help lists the switches)\n`);
      process.exit(2);
    })
    .parseAsync();
} catch (error) {
  const message = error instanceof UsageError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
