import type { Argv, CommandModule } from 'yargs';
import { runStatus, type StatusReport } from '../operations/status.js';
import { failWith } from './command-output.js';

interface StatusArguments {
  project: string;
  app: string | undefined;
  json: boolean;
}

function builder(yargs: Argv) {
  return yargs
    .option('project', { alias: 'p', type: 'string', demandOption: true, describe: 'the BOINC project directory' })
    .option('app', { alias: 'a', type: 'string', describe: 'one app (default: every app tsmw set up)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
    .example('$0 status -p ~/projects/test', 'is everything in place, and why would results not arrive?')
    .example('$0 status -p ~/projects/test -a pi --json', 'the same for one app, for a script (findings carry stable codes)')
    .epilog('Exit status: 0 when nothing is wrong, 1 when a finding is an error, 2 bad usage.');
}

function formatStatus(report: StatusReport): string {
  const lines = [`project ${report.projectHome} (config.xml <host> ${report.host.config ?? '(none)'}, this host ${report.host.here})`];
  for (const app of report.apps) {
    lines.push(`app ${app.app}: ${app.inProjectXml ? 'in project.xml' : 'NOT in project.xml'}`);
    for (const daemon of app.daemons) lines.push(`  daemon ${daemon.role.padEnd(12)} ${daemon.disabled ? 'disabled' : daemon.running === undefined ? 'other host' : daemon.running ? 'running' : 'NOT running'}  ${daemon.cmd}`);
    for (const version of app.versions) lines.push(`  version ${version.version} ${version.platforms.join(', ')}${version.moduleHash === undefined ? '' : ` module ${version.moduleHash.slice(0, 16)}…`}${version.inManifest ? '' : ' (not in the manifest)'}`);
  }
  for (const finding of report.findings) lines.push(`${finding.severity}: [${finding.code}] ${finding.message}`);
  lines.push(report.ok ? 'ok: results can arrive' : 'not ok: see the errors above');
  return `${lines.join('\n')}\n`;
}

export const statusCommand: CommandModule<object, StatusArguments> = {
  command: 'status',
  describe: 'what is installed, and every reason results would not arrive',
  builder: (yargs) => builder(yargs) as unknown as Argv<StatusArguments>,
  handler: async (argv) => {
    try {
      const report = await runStatus({ projectHome: argv.project, ...(argv.app === undefined ? {} : { app: argv.app }) });
      process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      process.exitCode = report.ok ? 0 : 1;
    } catch (error) {
      failWith(error, argv.json);
    }
  },
};
