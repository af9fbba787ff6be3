import { TsmwError } from '@tsmw/core';
import { SetupUsageError } from '../errors/setup-usage-error.js';
import type { SetupReport } from '../operations/setup-report.js';

/** Options every command accepts. */
export interface OutputOptions {
  readonly json: boolean;
}

/** Prints a report of init, deploy or remove: text for people, or one JSON document with `--json`. */
export function printReport(report: SetupReport, options: OutputOptions, stdout: NodeJS.WritableStream = process.stdout): void {
  if (options.json) {
    stdout.write(`${JSON.stringify({ ok: true, ...report, diff: report.dryRun ? report.diff : undefined }, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  if (report.dryRun) lines.push(report.diff.trimEnd(), '');
  const { appVersion } = report;
  if (!report.changed) {
    lines.push(`nothing to change: app ${report.app} in ${report.projectHome} is as asked${appVersion === undefined ? '' : ` (app version ${appVersion.version})`}`);
  } else if (!report.dryRun) {
    lines.push(`tsmw-setup ${report.command}: app ${report.app} in ${report.projectHome}`);
    for (const change of report.changes) lines.push(`  ${change.action.padEnd(6)} ${change.path}`);
    for (const backup of report.backups) lines.push(`  backup ${backup}`);
    for (const command of report.commandsRun) lines.push(`  ran    ${command}`);
  }
  if (appVersion !== undefined) {
    lines.push(
      `app version ${appVersion.version}${appVersion.created ? (report.dryRun ? ' (would be created)' : ' (created)') : ''}: task module ${appVersion.moduleHash.slice(0, 16)}… (${appVersion.taskNames.join(', ')}), ${appVersion.platforms.join(', ')}, Node.js ${appVersion.node}`,
    );
  }
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  if (report.dryRun) lines.push('(dry run: nothing was changed)');
  stdout.write(`${lines.join('\n')}\n`);
}

/** The exit status for an error: 2 for bad usage, 1 for anything else. */
export function exitCodeFor(error: unknown): 1 | 2 {
  return SetupUsageError.isInstance(error) || (TsmwError.isInstance(error) && error.code === 'TSMW_INVALID_ARGUMENT') ? 2 : 1;
}

/** Ends the process for an error: one line on stderr (and a JSON document with `--json`). */
export function failWith(error: unknown, json: boolean): never {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  const code = TsmwError.isInstance(error) ? error.code : 'TSMW_SETUP_UNEXPECTED';
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
  process.stderr.write(`tsmw-setup: ${message}\n`);
  process.exit(exitCodeFor(error));
}
