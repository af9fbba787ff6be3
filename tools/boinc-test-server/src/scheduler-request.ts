import { childNumber, childText, findChild, findChildren, textOf, tryParseXml } from './parse-xml.js';
import type { XmlElement } from './parse-xml.js';

/** The client-side state of a result (`RESULT_*` in BOINC's `lib/common_defs.h`). */
export type ClientResultState =
  | 'new'
  | 'files-downloading'
  | 'files-downloaded'
  | 'compute-error'
  | 'files-uploading'
  | 'files-uploaded'
  | 'aborted'
  | 'upload-failed'
  | 'unknown';

const clientResultStates: readonly ClientResultState[] = [
  'new',
  'files-downloading',
  'files-downloaded',
  'compute-error',
  'files-uploading',
  'files-uploaded',
  'aborted',
  'upload-failed',
];

export function clientResultStateName(state: number): ClientResultState {
  return clientResultStates[state] ?? 'unknown';
}

/** What the server concludes from a report: the real scheduler's `outcome` in words. */
export type ResultOutcome = 'success' | 'client-error' | 'aborted';

/** One `<result>` a client reported in a scheduler request. */
export interface ReportedResultMessage {
  readonly name: string;
  readonly exitStatus: number;
  /** The numeric client state as sent (`<state>`). */
  readonly state: number;
  readonly stateName: ClientResultState;
  readonly outcome: ResultOutcome;
  readonly finalCpuTime: number;
  readonly finalElapsedTime: number;
  /** The raw content of `<stderr_out>` (with `<core_client_version>` and the CDATA section), as the real server stores it. */
  readonly stderrOut: string;
  /** Just the text the app wrote to stderr (the content of `<stderr_txt>`), or '' when absent. */
  readonly stderrText: string;
  readonly versionNum: number | undefined;
  readonly platform: string | undefined;
  readonly outputFiles: readonly { readonly name: string; readonly nbytes: number | undefined; readonly md5: string | undefined }[];
}

export interface SchedulerRequestMessage {
  readonly authenticator: string | undefined;
  readonly hostId: number;
  readonly rpcSequenceNumber: number;
  /** `major.minor.release` of the client, e.g. `7.20.5`; '' when absent. */
  readonly clientVersion: string;
  readonly platformName: string | undefined;
  readonly workRequestSeconds: number;
  readonly cpuRequestSeconds: number;
  readonly cpuRequestInstances: number;
  /** True when the client asks for work (any of the request amounts above 0). */
  readonly wantsWork: boolean;
  readonly results: readonly ReportedResultMessage[];
  /** Names of results the client still holds (`<other_results>`). */
  readonly otherResults: readonly string[];
  readonly appVersions: readonly { readonly appName: string; readonly versionNum: number | undefined; readonly platform: string | undefined }[];
}

/** Thrown by `parseSchedulerRequest` when the body has no `<scheduler_request>` element. */
export class SchedulerRequestParseError extends Error {
  readonly code = 'TSMW_BOINC_TEST_SCHEDULER_REQUEST_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerRequestParseError';
  }
}

export function parseSchedulerRequest(text: string): SchedulerRequestMessage {
  const document = tryParseXml(text, { rawElements: ['stderr_out'] });
  if (!document) throw new SchedulerRequestParseError('The body is not readable XML.');
  const request = findChild(document, 'scheduler_request');
  if (!request) throw new SchedulerRequestParseError('The body has no <scheduler_request> element.');
  const major = childText(request, 'core_client_major_version');
  const minor = childText(request, 'core_client_minor_version');
  const release = childText(request, 'core_client_release');
  const workRequestSeconds = childNumber(request, 'work_req_seconds') ?? 0;
  const cpuRequestSeconds = childNumber(request, 'cpu_req_secs') ?? 0;
  const cpuRequestInstances = childNumber(request, 'cpu_req_instances') ?? 0;
  const otherResults = findChild(request, 'other_results');
  const appVersions = findChild(request, 'app_versions');
  return {
    authenticator: childText(request, 'authenticator'),
    hostId: childNumber(request, 'hostid') ?? 0,
    rpcSequenceNumber: childNumber(request, 'rpc_seqno') ?? 0,
    clientVersion: major === undefined ? '' : [major, minor ?? '0', release ?? '0'].join('.'),
    platformName: childText(request, 'platform_name'),
    workRequestSeconds,
    cpuRequestSeconds,
    cpuRequestInstances,
    wantsWork: workRequestSeconds > 0 || cpuRequestSeconds > 0 || cpuRequestInstances > 0,
    results: findChildren(request, 'result').map(parseReportedResult),
    otherResults: otherResults
      ? findChildren(otherResults, 'other_result').map((element) => childText(element, 'name') ?? '').filter((name) => name !== '')
      : [],
    appVersions: appVersions
      ? findChildren(appVersions, 'app_version').map((element) => ({
          appName: childText(element, 'app_name') ?? '',
          versionNum: childNumber(element, 'version_num'),
          platform: childText(element, 'platform'),
        }))
      : [],
  };
}

function parseReportedResult(element: XmlElement): ReportedResultMessage {
  const state = childNumber(element, 'state') ?? -1;
  const exitStatus = childNumber(element, 'exit_status') ?? 0;
  const stderrElement = findChild(element, 'stderr_out');
  const stderrOut = stderrElement?.rawInner ?? '';
  const stateName = clientResultStateName(state);
  return {
    name: childText(element, 'name') ?? '',
    exitStatus,
    state,
    stateName,
    outcome: outcomeOf(stateName, exitStatus),
    finalCpuTime: childNumber(element, 'final_cpu_time') ?? 0,
    finalElapsedTime: childNumber(element, 'final_elapsed_time') ?? 0,
    stderrOut,
    stderrText: extractStderrText(stderrOut),
    versionNum: childNumber(element, 'version_num') ?? childNumber(element, 'app_version_num'),
    platform: childText(element, 'platform'),
    outputFiles: findChildren(element, 'file_info').map((file) => ({
      name: childText(file, 'name') ?? '',
      nbytes: childNumber(file, 'nbytes'),
      md5: childText(file, 'md5_cksum'),
    })),
  };
}

function outcomeOf(state: ClientResultState, exitStatus: number): ResultOutcome {
  if (state === 'aborted') return 'aborted';
  if (state === 'files-uploaded' && exitStatus === 0) return 'success';
  return 'client-error';
}

/** The text between `<stderr_txt>` and `</stderr_txt>` (inside the CDATA section), without the tags. */
function extractStderrText(rawStderrOut: string): string {
  const start = rawStderrOut.indexOf('<stderr_txt>');
  if (start === -1) return '';
  const end = rawStderrOut.lastIndexOf('</stderr_txt>');
  let body = rawStderrOut.slice(start + '<stderr_txt>'.length, end === -1 ? rawStderrOut.length : end);
  if (!rawStderrOut.includes('<![CDATA[')) {
    // Without a CDATA section the text is escaped XML.
    const parsed = tryParseXml(`<t>${body}</t>`);
    const element = parsed && findChild(parsed, 't');
    if (element) body = textOf(element);
  }
  return body.startsWith('\n') ? body.slice(1) : body;
}
