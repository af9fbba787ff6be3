#!/usr/bin/env node
// tsmw-setup: provisions a BOINC project for tsmw. One command module per file in commands/.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { deployCommand } from './commands/deploy-command.js';
import { initCommand } from './commands/init-command.js';
import { removeCommand } from './commands/remove-command.js';
import { statusCommand } from './commands/status-command.js';

await yargs(hideBin(process.argv))
  .scriptName('tsmw-setup')
  .usage('$0 <command> --project DIR --app NAME [options]\n\nSets up a BOINC project to run tsmw tasks: daemons, app, templates, app versions that ship Node.js.')
  .command(initCommand)
  .command(deployCommand)
  .command(statusCommand)
  .command(removeCommand)
  .demandCommand(1, 'Name a command: init, deploy, status or remove')
  .strict()
  .help()
  .alias('help', 'h')
  .version(false)
  .wrap(Math.min(110, process.stdout.columns ?? 100))
  .example('$0 init -p ~/projects/test -a pi -t ./tasks.ts', 'first setup')
  .example('$0 status -p ~/projects/test', 'why would results not arrive?')
  .fail((message, error) => {
    if (error !== undefined && error !== null) throw error;
    process.stderr.write(`tsmw-setup: ${message.split('\n')[0]} (see --help)\n`);
    process.exit(2);
  })
  .parseAsync();
