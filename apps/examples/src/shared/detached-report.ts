import type { ExampleMaster } from './start-example-master.js';

/** What an example reports after `--detach`: its tasks are with BOINC, nothing was collected. */
export interface DetachedReport {
  readonly detached: true;
  readonly batch: string;
  /** Tasks submitted (or found already submitted) in the batch by this run. */
  readonly tasks: number;
  readonly transport: string;
  readonly app: string;
  /** The project directory or URL. */
  readonly project: string;
}

export function detachedReport(example: ExampleMaster, tasks: number): DetachedReport {
  return { detached: true, batch: example.batch!, tasks, transport: example.master.transportId, app: example.boinc!.app, project: example.boinc!.project };
}

export function isDetachedReport(report: object): report is DetachedReport {
  return 'detached' in report && report.detached === true;
}

/** The text a detached run prints (the `--json` form is the report itself). */
export function formatDetachedReport(report: DetachedReport): string {
  return (
    `${report.tasks} tasks of batch ${report.batch} are with BOINC (app ${report.app}, ${report.project}).\n` +
    'Run the same command again to collect the results (it submits nothing twice); without --detach it waits for them.\n'
  );
}

/**
 * Prints an example's report: as one line of JSON with `--json`, as the detached text after
 * `--detach`, or else as `format` writes it.
 */
export function printReport<Report extends object>(report: Report | DetachedReport, json: boolean, format: (report: Report) => string): void {
  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else if (isDetachedReport(report)) process.stdout.write(formatDetachedReport(report));
  else process.stdout.write(format(report as Report));
}
