import { escapeXmlText } from './parse-xml.js';

export interface ReplyInputFile {
  readonly physicalName: string;
  readonly openName: string;
  readonly url: string;
  readonly md5: string;
  readonly nbytes: number;
  readonly copyFile: boolean;
}

export interface ReplyOutputFile {
  readonly physicalName: string;
  readonly openName: string;
  readonly maxBytes: number;
  /** Must contain `file_upload_handler`, or the client takes the output for a download. */
  readonly uploadUrl: string;
  readonly copyFile: boolean;
}

export interface ReplyJob {
  readonly workunitName: string;
  readonly resultName: string;
  readonly commandLine: string | undefined;
  readonly inputFiles: readonly ReplyInputFile[];
  readonly outputFiles: readonly ReplyOutputFile[];
  /** Unix time in seconds. */
  readonly reportDeadline: number;
  readonly rscFpopsEstimate: number;
  readonly rscFpopsBound: number;
  readonly rscMemoryBound: number;
  readonly rscDiskBound: number;
  /** This job's app, version and platform when they differ from the reply's. */
  readonly appName?: string;
  readonly versionNum?: number;
  readonly platform?: string;
}

export interface SchedulerReplyOptions {
  readonly masterUrl: string;
  readonly projectName: string;
  readonly appName: string;
  readonly versionNum: number;
  readonly platform: string;
  readonly hostId: number;
  /** Minimum seconds before the client may call again (`<request_delay>`). */
  readonly requestDelaySeconds: number;
  /** Seconds after which the client calls back even with nothing to do (`<next_rpc_delay>`); 0 leaves it out. */
  readonly nextRpcDelaySeconds: number;
  readonly jobs: readonly ReplyJob[];
  /** Names of reported results to acknowledge; without a `<result_ack>` the client reports them again. */
  readonly acknowledgedResults: readonly string[];
  /** A message the client shows in its event log. */
  readonly message?: string;
  /** Results the client holds that it should abort (`<result_abort>`, BOINC's `send_result_abort`). */
  readonly resultAborts?: readonly string[];
}

function element(name: string, value: string | number): string {
  return `<${name}>${typeof value === 'number' ? formatNumber(value) : escapeXmlText(value)}</${name}>`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6);
}

/** Renders a `<scheduler_reply>` in the layout the real scheduler (server 1.6.2) sends. */
export function renderSchedulerReply(options: SchedulerReplyOptions): string {
  const lines: string[] = ['<scheduler_reply>', element('scheduler_version', 803), '<dont_use_dcf/>'];
  lines.push(element('master_url', options.masterUrl));
  lines.push(element('request_delay', options.requestDelaySeconds));
  if (options.nextRpcDelaySeconds > 0) lines.push(element('next_rpc_delay', options.nextRpcDelaySeconds));
  lines.push(element('project_name', options.projectName));
  lines.push(element('hostid', options.hostId));
  lines.push(element('userid', 1), element('user_name', 'tester'));
  if (options.message !== undefined) {
    lines.push(`<message priority="low">${escapeXmlText(options.message)}</message>`);
  }
  const apps = [...new Set(options.jobs.map((job) => job.appName ?? options.appName))];
  for (const app of apps) {
    lines.push('<app>', `    ${element('name', app)}`, `    ${element('user_friendly_name', app)}`, '</app>');
  }
  for (const job of options.jobs) {
    for (const input of job.inputFiles) {
      lines.push(
        '<file_info>',
        `    ${element('name', input.physicalName)}`,
        `    ${element('url', input.url)}`,
        `    ${element('md5_cksum', input.md5)}`,
        `    ${element('nbytes', input.nbytes)}`,
        '</file_info>',
      );
    }
    lines.push(
      '<workunit>',
      `    ${element('rsc_fpops_est', job.rscFpopsEstimate)}`,
      `    ${element('rsc_fpops_bound', job.rscFpopsBound)}`,
      `    ${element('rsc_memory_bound', job.rscMemoryBound)}`,
      `    ${element('rsc_disk_bound', job.rscDiskBound)}`,
      `    ${element('name', job.workunitName)}`,
      `    ${element('app_name', job.appName ?? options.appName)}`,
    );
    if (job.commandLine !== undefined) lines.push(`<command_line>\n${escapeXmlText(job.commandLine)}\n</command_line>`);
    for (const input of job.inputFiles) {
      lines.push(
        '<file_ref>',
        `    ${element('file_name', input.physicalName)}`,
        `    ${element('open_name', input.openName)}`,
        ...(input.copyFile ? ['    <copy_file/>'] : []),
        '</file_ref>',
      );
    }
    lines.push('</workunit>');
    for (const output of job.outputFiles) {
      lines.push(
        '<file_info>',
        `    ${element('name', output.physicalName)}`,
        '    <generated_locally/>',
        '    <upload_when_present/>',
        `    ${element('max_nbytes', output.maxBytes)}`,
        `    ${element('url', output.uploadUrl)}`,
        '</file_info>',
      );
    }
    lines.push('<result>', `    ${element('report_deadline', job.reportDeadline)}`, `    ${element('wu_name', job.workunitName)}`, `    ${element('name', job.resultName)}`);
    for (const output of job.outputFiles) {
      lines.push(
        '    <file_ref>',
        `        ${element('file_name', output.physicalName)}`,
        `        ${element('open_name', output.openName)}`,
        ...(output.copyFile ? ['        <copy_file/>'] : []),
        '    </file_ref>',
      );
    }
    lines.push(
      `    ${element('platform', job.platform ?? options.platform)}`,
      `    ${element('version_num', job.versionNum ?? options.versionNum)}`,
      '    <plan_class></plan_class>',
      '</result>',
    );
  }
  for (const name of options.resultAborts ?? []) {
    lines.push('<result_abort>', `    ${element('name', name)}`, '</result_abort>');
  }
  for (const name of options.acknowledgedResults) {
    lines.push('<result_ack>', `    ${element('name', name)}`, '</result_ack>');
  }
  lines.push('</scheduler_reply>', '');
  return lines.join('\n');
}
