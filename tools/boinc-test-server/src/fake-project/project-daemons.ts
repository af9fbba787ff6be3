import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { childNumber, childText, findChild, findChildren, tryParseXml } from '../parse-xml.js';
import { dirHierPath } from './dir-hier.js';
import { readProjectConfig, shortHostname } from './project-config.js';
import type { ProjectConfig } from './project-config.js';
import { readDaemonState } from './project-commands.js';
import type { WorkunitRecord } from './project-database.js';

/** `WU_ERROR_*` of BOINC's `db/boinc_db_types.h`. */
export const WorkunitError = {
  couldntSendResult: 1,
  tooManyErrorResults: 2,
  tooManySuccessResults: 4,
  tooManyTotalResults: 8,
  cancelled: 16,
  noCanonicalResult: 32,
} as const;

/** `RESULT_OUTCOME_*`. */
export const ResultOutcome = { init: 0, success: 1, couldntSend: 2, clientError: 3, noReply: 4, didntNeed: 5, validateError: 6, clientDetached: 7 } as const;
/** `RESULT_SERVER_STATE_*`. */
export const ResultServerState = { inactive: 1, unsent: 2, inProgress: 4, over: 5 } as const;
/** `VALIDATE_STATE_*`. */
export const ValidateState = { init: 0, valid: 1, invalid: 2, noCheck: 3, inconclusive: 4, tooLate: 5 } as const;
/** `ASSIMILATE_*`. */
export const AssimilateState = { init: 0, ready: 1, done: 2 } as const;

export interface OutputFileState {
  readonly physicalName: string;
  readonly openName: string;
  readonly maxBytes: number;
  readonly copyFile: boolean;
}

export interface ResultState {
  readonly id: number;
  readonly name: string;
  readonly workunit: WorkunitState;
  serverState: number;
  outcome: number;
  validateState: number;
  exitStatus: number;
  cpuTime: number;
  elapsedTime: number;
  stderrOut: string;
  sentAt: number;
  receivedAt: number;
  /** Unix seconds. */
  reportDeadline: number;
  hostId: number;
  readonly outputs: readonly OutputFileState[];
  /** The processed result template (`result.xml_doc_in`). */
  readonly xmlDocIn: string;
  /** Set when an injected fault stands in for the host that got this result. */
  fault: ResultFault | undefined;
}

export interface WorkunitState {
  readonly record: WorkunitRecord;
  errorMask: number;
  canonicalResultId: number;
  assimilateState: number;
  targetNresults: number;
  needValidate: boolean;
  transitionNeeded: boolean;
  readonly results: ResultState[];
  /** Milliseconds since the epoch of the last change (for `query_batch2`'s `min_mod_time`). */
  modifiedAt: number;
}

/** A fault that stands in for the host running one result: it errs at once, or never replies. */
export interface ResultFault {
  /** `success` stands for a host that returned these outputs (by open name, in upload order). */
  readonly outcome: 'client-error' | 'no-reply' | 'success';
  readonly outputs?: readonly (string | Uint8Array)[];
  /** Exit status of a client error; default 1. */
  readonly exitStatus?: number;
  /** The app's stderr text for a client error. */
  readonly stderr?: string;
}

export interface AssimilatorRun {
  readonly daemon: string;
  readonly workunitName: string;
  readonly workunitId: number;
  /** The command string `script_assimilator` passed to `system()`. */
  readonly command: string;
  readonly cwd: string;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly at: number;
}

export interface ValidatorRun {
  readonly daemon: string;
  readonly kind: 'init' | 'compare';
  readonly command: string;
  readonly exitCode: number | null;
  readonly at: number;
}

interface DaemonCommand {
  readonly cmd: string;
  readonly program: string;
  readonly arguments: readonly string[];
}

/** Splits a daemon's `<cmd>` as `bin/start` does (`shlex.split`, close enough for daemon commands). */
function splitCommand(cmd: string): string[] {
  const tokens: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of cmd.matchAll(pattern)) tokens.push(match[1] ?? match[2] ?? match[3] ?? '');
  return tokens;
}

function optionValue(arguments_: readonly string[], name: string): string | undefined {
  const index = arguments_.findIndex((argument) => argument === `--${name}` || argument === `-${name}`);
  return index === -1 ? undefined : arguments_[index + 1];
}

/**
 * `--mod N R` of BOINC's daemons (`sched/assimilator.cpp`, the validator, the transitioner): this
 * instance handles only workunits whose id is R modulo N, so N instances share an app's work.
 */
function workunitModulus(arguments_: readonly string[]): { readonly modulus: number; readonly remainder: number } | undefined {
  const index = arguments_.findIndex((argument) => argument === '--mod' || argument === '-mod');
  if (index === -1) return undefined;
  const modulus = Number(arguments_[index + 1]);
  const remainder = Number(arguments_[index + 2]);
  if (!Number.isInteger(modulus) || modulus <= 0 || !Number.isInteger(remainder) || remainder < 0) return undefined;
  return { modulus, remainder };
}

/** BOINC's `split(s, ' ')` of `lib/str_util.cpp`, bug included: every token keeps the delimiter. */
function boincSplit(text: string): string[] {
  const parts = text.split(' ');
  if (parts.at(-1) === '') parts.pop();
  return parts.map((part) => `${part} `);
}

interface ProcessOutcome {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runShell(command: string, cwd: string, binDirectory: string): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd,
      env: { ...process.env, PATH: `${binDirectory}:${process.env['PATH'] ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ exitCode: 127, stdout, stderr: stderr + String(error) }));
    child.on('close', (code) => resolve({ exitCode: code, stdout, stderr }));
  });
}

export interface ProjectDaemonsOptions {
  readonly projectDirectory: string;
  readonly uploadUrl: () => string;
  /** How long a crashed assimilator waits before `bin/start --cron` would run it again. */
  readonly assimilatorRestartDelayMs: number;
  readonly log: (line: string) => void;
  readonly onChange: () => void;
}

/**
 * The server side of the fake project between `create_work` and the assimilator, run in the test
 * process: the transitioner (results `<wu>_<n>`, output names `<result>_r<random>_<i>` from the
 * result template, deadlines, `WU_ERROR_*` masks as `sched/transitioner.cpp` sets them), the
 * validators configured in config.xml (`sample_trivial_validator`, `sample_bitwise_validator`,
 * `script_validator` with BOINC's default argument forms) and `script_assimilator` (`../bin/NAME`
 * from `tmp_HOST` through `/bin/sh -c`, `NAME WU_ID FILES...` or
 * `NAME --error ERRMASK WU_NAME WU_ID BATCH`; several assimilators of an app run side by side,
 * each on its `--mod N R` share; a non-zero exit stops that assimilator, which is
 * started again after `assimilatorRestartDelayMs`, as cron's `bin/start` would, and retries the
 * workunit). Only daemons that `bin/start` started run.
 */
export function createProjectDaemons(options: ProjectDaemonsOptions) {
  const workunits = new Map<number, WorkunitState>();
  const workunitsByName = new Map<string, WorkunitState>();
  const results = new Map<string, ResultState>();
  const resultsById = new Map<number, ResultState>();
  const faults = new Map<string, ResultFault[]>();
  const assimilatorRuns: AssimilatorRun[] = [];
  const validatorRuns: ValidatorRun[] = [];
  const crashedUntil = new Map<string, number>();
  let nextResultId = 1;
  let running: Promise<void> | undefined;
  let again = false;

  function config(): ProjectConfig {
    return readProjectConfig(options.projectDirectory);
  }

  function runningDaemons(): DaemonCommand[] {
    const state = readDaemonState(options.projectDirectory);
    if (!state.enabled || existsSync(join(options.projectDirectory, 'stop_daemons'))) return [];
    return state.daemons.map((daemon) => {
      const tokens = splitCommand(daemon.cmd);
      return { cmd: daemon.cmd, program: basename(tokens[0] ?? ''), arguments: tokens.slice(1) };
    });
  }

  function isRunning(program: string): boolean {
    return runningDaemons().some((daemon) => daemon.program === program);
  }

  function addWorkunit(record: WorkunitRecord): WorkunitState {
    const state: WorkunitState = {
      record,
      errorMask: 0,
      canonicalResultId: 0,
      assimilateState: AssimilateState.init,
      targetNresults: record.targetNresults,
      needValidate: false,
      transitionNeeded: true,
      results: [],
      modifiedAt: Date.now(),
    };
    workunits.set(record.id, state);
    workunitsByName.set(record.name, state);
    return state;
  }

  function createResult(workunit: WorkunitState, suffix: number, upload: string): ResultState | undefined {
    const name = `${workunit.record.name}_${suffix}`;
    const base = `${name}_r${randomInt(1, 2 ** 31 - 1)}_`;
    let template: string;
    try {
      template = readFileSync(join(options.projectDirectory, workunit.record.resultTemplateFile), 'latin1');
    } catch {
      options.log(`transitioner: [${workunit.record.name}] Failed to read result template file '${workunit.record.resultTemplateFile}'`);
      return undefined;
    }
    const processed = template.replace(/<OUTFILE_([^/>]*)\/>/g, (_, index: string) => `${base}${index}`).replaceAll('<UPLOAD_URL/>', upload);
    const document = tryParseXml(processed);
    const root = document && (findChild(document, 'output_template') ?? document);
    const outputs: OutputFileState[] = [];
    if (root) {
      const infos = new Map(findChildren(root, 'file_info').map((info) => [childText(info, 'name') ?? '', childNumber(info, 'max_nbytes') ?? 0]));
      const result = findChild(root, 'result');
      for (const reference of result ? findChildren(result, 'file_ref') : []) {
        const physicalName = childText(reference, 'file_name') ?? '';
        outputs.push({
          physicalName,
          openName: childText(reference, 'open_name') ?? physicalName,
          maxBytes: infos.get(physicalName) ?? 0,
          copyFile: findChild(reference, 'copy_file') !== undefined,
        });
      }
    }
    const state: ResultState = {
      id: nextResultId++,
      name,
      workunit,
      serverState: ResultServerState.unsent,
      outcome: ResultOutcome.init,
      validateState: ValidateState.init,
      exitStatus: 0,
      cpuTime: 0,
      elapsedTime: 0,
      stderrOut: '',
      sentAt: 0,
      receivedAt: 0,
      reportDeadline: 0,
      hostId: 0,
      outputs,
      xmlDocIn: processed.replace(/<\/?output_template>/g, ''),
      fault: undefined,
    };
    workunit.results.push(state);
    results.set(name, state);
    resultsById.set(state.id, state);
    const fault = faults.get(workunit.record.name)?.shift();
    if (fault) applyFault(state, fault);
    return state;
  }

  /** A fault's phantom host takes an unsent result at once. */
  function applyFault(state: ResultState, fault: ResultFault): void {
    // The fault's phantom host takes the result at once.
    state.fault = fault;
    const now = Date.now();
    state.serverState = ResultServerState.inProgress;
    state.sentAt = now;
    state.hostId = -1;
    if (fault.outcome === 'success') {
      const currentConfig = config();
      state.outputs.forEach((output, index) => {
        const path = dirHierPath(output.physicalName, currentConfig.uploadDir, currentConfig.fanout);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, fault.outputs?.[index] ?? '');
      });
      state.serverState = ResultServerState.over;
      state.outcome = ResultOutcome.success;
      state.receivedAt = now;
      state.stderrOut = `<core_client_version>7.20.5</core_client_version>\n<![CDATA[\n<stderr_txt>\n${fault.stderr ?? ''}\n</stderr_txt>\n]]>\n`;
    } else if (fault.outcome === 'client-error') {
      state.serverState = ResultServerState.over;
      state.outcome = ResultOutcome.clientError;
      state.exitStatus = fault.exitStatus ?? 1;
      state.receivedAt = now;
      state.stderrOut = `<core_client_version>7.20.5</core_client_version>\n<![CDATA[\n<message>\nprocess exited with code ${state.exitStatus} (0x${(state.exitStatus >>> 0).toString(16)}, -${256 - (state.exitStatus & 0xff)})</message>\n<stderr_txt>\n${fault.stderr ?? ''}\n</stderr_txt>\n]]>\n`;
    } else {
      state.reportDeadline = Math.floor(now / 1000) - 1;
    }
  }

  /** `sched/transitioner.cpp`'s `handle_wu()`, for one workunit. */
  function transition(workunit: WorkunitState, now: number): void {
    workunit.transitionNeeded = false;
    let ntotal = 0;
    let nunsent = 0;
    let ninprogress = 0;
    let nerrors = 0;
    let nsuccess = 0;
    let ncouldntSend = 0;
    let newToValidate = false;
    for (const result of workunit.results) {
      ntotal += 1;
      if (result.serverState === ResultServerState.unsent || result.serverState === ResultServerState.inactive) nunsent += 1;
      else if (result.serverState === ResultServerState.inProgress) {
        if (result.reportDeadline < now / 1000) {
          result.serverState = ResultServerState.over;
          result.outcome = ResultOutcome.noReply;
          options.log(`transitioner: [${result.name}] result timed out; outcome:NO_REPLY`);
        } else {
          ninprogress += 1;
        }
      }
      if (result.serverState === ResultServerState.over) {
        switch (result.outcome) {
          case ResultOutcome.couldntSend:
            ncouldntSend += 1;
            break;
          case ResultOutcome.success:
            if (result.validateState === ValidateState.init) newToValidate = true;
            if (result.validateState !== ValidateState.invalid) nsuccess += 1;
            break;
          case ResultOutcome.clientError:
          case ResultOutcome.validateError:
            nerrors += 1;
            break;
          default:
            break;
        }
      }
    }
    if (newToValidate && nsuccess >= workunit.record.minQuorum && workunit.canonicalResultId === 0) workunit.needValidate = true;
    if (ncouldntSend > 0) workunit.errorMask |= WorkunitError.couldntSendResult;
    if (nerrors > workunit.record.maxErrorResults) workunit.errorMask |= WorkunitError.tooManyErrorResults;
    let needed = workunit.canonicalResultId ? 0 : Math.max(0, workunit.targetNresults - nunsent - ninprogress - nsuccess);
    const allowed = workunit.record.maxTotalResults - ntotal;
    if (allowed < 0 || (allowed === 0 && needed > 0)) workunit.errorMask |= WorkunitError.tooManyTotalResults;
    else if (needed > allowed) needed = allowed;
    if (workunit.errorMask || workunit.canonicalResultId) {
      for (const result of workunit.results) {
        if (result.serverState === ResultServerState.unsent || result.serverState === ResultServerState.inactive) {
          result.serverState = ResultServerState.over;
          result.outcome = ResultOutcome.didntNeed;
        }
      }
      if (workunit.errorMask && workunit.assimilateState === AssimilateState.init) workunit.assimilateState = AssimilateState.ready;
    } else {
      const upload = options.uploadUrl();
      let suffix = workunit.results.length;
      for (let index = 0; index < needed; index += 1) {
        const created = createResult(workunit, suffix, upload);
        suffix += 1;
        if (created?.fault) workunit.transitionNeeded = true;
      }
    }
    workunit.modifiedAt = Date.now();
  }

  function outputPaths(result: ResultState, currentConfig: ProjectConfig): string[] {
    return result.outputs.map((output) => dirHierPath(output.physicalName, currentConfig.uploadDir, currentConfig.fanout));
  }

  async function compareBytes(first: ResultState, second: ResultState, currentConfig: ProjectConfig): Promise<boolean> {
    const a = outputPaths(first, currentConfig);
    const b = outputPaths(second, currentConfig);
    if (a.length !== b.length) return false;
    for (let index = 0; index < a.length; index += 1) {
      try {
        if (!readFileSync(a[index]!).equals(readFileSync(b[index]!))) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  /** One `check_set()` of `sched/validate_util2.cpp` for a workunit; false on a transient error. */
  async function validate(workunit: WorkunitState, daemon: DaemonCommand, currentConfig: ProjectConfig, cwd: string, binDirectory: string): Promise<boolean> {
    const candidates = workunit.results.filter((result) => result.serverState === ResultServerState.over && result.outcome === ResultOutcome.success && result.validateState !== ValidateState.invalid);
    const initScript = daemon.program === 'script_validator' ? optionValue(daemon.arguments, 'init_script') : undefined;
    const compareScript = daemon.program === 'script_validator' ? optionValue(daemon.arguments, 'compare_script') : undefined;
    const tokens = (script: string | undefined, defaults: readonly string[]): string[] | undefined => {
      if (script === undefined) return undefined;
      const split = boincSplit(script);
      return split.length === 1 ? [...split, ...defaults] : split;
    };
    const init = tokens(initScript, ['files']);
    const compare = tokens(compareScript, ['files', 'files2']);
    const command = (script: readonly string[], first: ResultState, second?: ResultState): string => {
      let text = `../bin/${script[0] ?? ''}`;
      for (const token of script.slice(1)) {
        if (token === 'files') text += outputPaths(first, currentConfig).map((path) => ` ${path}`).join('');
        else if (token === 'files2' && second) text += outputPaths(second, currentConfig).map((path) => ` ${path}`).join('');
        else if (token === 'result_id') text += ` ${first.id}`;
        else if (token === 'result_id2' && second) text += ` ${second.id}`;
        else if (token === 'runtime') text += ` ${first.elapsedTime.toFixed(6)}`;
        else if (token === 'runtime2' && second) text += ` ${second.elapsedTime.toFixed(6)}`;
      }
      return text;
    };
    const valid: ResultState[] = [];
    for (const result of candidates) {
      if (init && result.validateState === ValidateState.init) {
        const text = command(init, result);
        const outcome = await runShell(text, cwd, binDirectory);
        validatorRuns.push({ daemon: daemon.cmd, kind: 'init', command: text, exitCode: outcome.exitCode, at: Date.now() });
        if (outcome.exitCode === 3) return false;
        if (outcome.exitCode !== 0) {
          result.validateState = ValidateState.invalid;
          continue;
        }
      }
      valid.push(result);
    }
    const matches = async (first: ResultState, second: ResultState): Promise<boolean | 'transient'> => {
      if (daemon.program === 'sample_bitwise_validator') return compareBytes(first, second, currentConfig);
      if (!compare) return true;
      const text = command(compare, first, second);
      const outcome = await runShell(text, cwd, binDirectory);
      validatorRuns.push({ daemon: daemon.cmd, kind: 'compare', command: text, exitCode: outcome.exitCode, at: Date.now() });
      if (outcome.exitCode === 3) return 'transient';
      return outcome.exitCode === 0;
    };
    const quorum = workunit.record.minQuorum;
    if (valid.length >= quorum) {
      for (const candidate of valid) {
        const agreeing = [candidate];
        for (const other of valid) {
          if (other === candidate) continue;
          const match = await matches(candidate, other);
          if (match === 'transient') return false;
          if (match) agreeing.push(other);
        }
        if (agreeing.length >= quorum) {
          workunit.canonicalResultId = candidate.id;
          for (const result of valid) result.validateState = agreeing.includes(result) ? ValidateState.valid : ValidateState.invalid;
          workunit.assimilateState = AssimilateState.ready;
          workunit.needValidate = false;
          workunit.transitionNeeded = true;
          return true;
        }
      }
    }
    // No consensus: ask for one more result, or give up at max_success_results.
    workunit.needValidate = false;
    const successes = workunit.results.filter((result) => result.outcome === ResultOutcome.success).length;
    if (successes >= workunit.record.maxSuccessResults) workunit.errorMask |= WorkunitError.tooManySuccessResults;
    else workunit.targetNresults = Math.max(workunit.targetNresults, valid.length + 1);
    workunit.transitionNeeded = true;
    return true;
  }

  async function assimilate(workunit: WorkunitState, daemon: DaemonCommand, currentConfig: ProjectConfig, cwd: string, binDirectory: string): Promise<boolean> {
    const script = optionValue(daemon.arguments, 'script');
    if (daemon.program !== 'script_assimilator') {
      workunit.assimilateState = AssimilateState.done;
      return true;
    }
    if (script === undefined) {
      options.log(`${daemon.cmd}: script name missing from command line`);
      return false;
    }
    let tokens = boincSplit(script);
    if (tokens.length === 1) tokens = [...tokens, 'wu_id', 'files'];
    const record = workunit.record;
    let command: string;
    const canonical = resultsById.get(workunit.canonicalResultId);
    if (workunit.canonicalResultId && canonical) {
      command = `../bin/${tokens[0] ?? ''}`;
      for (const token of tokens.slice(1)) {
        if (token === 'files') command += outputPaths(canonical, currentConfig).map((path) => ` ${path}`).join('');
        else if (token === 'files2') command += canonical.outputs.map((output, index) => ` ${outputPaths(canonical, currentConfig)[index]} ${output.openName}`).join('');
        else if (token === 'wu_id') command += ` ${record.id}`;
        else if (token === 'wu_name') command += ` ${record.name}`;
        else if (token === 'result_id') command += ` ${canonical.id}`;
        else if (token === 'runtime') command += ` ${canonical.elapsedTime.toFixed(6)}`;
        else if (token === 'batch_id') command += ` ${record.batch}`;
      }
    } else {
      if (!workunit.errorMask) workunit.errorMask = WorkunitError.noCanonicalResult;
      command = `../bin/${tokens[0] ?? ''} --error ${workunit.errorMask} ${record.name} ${record.id} ${record.batch}`;
    }
    const outcome = await runShell(command, cwd, binDirectory);
    assimilatorRuns.push({ daemon: daemon.cmd, workunitName: record.name, workunitId: record.id, command, cwd, ...outcome, at: Date.now() });
    if (outcome.exitCode !== 0) {
      options.log(`${daemon.cmd}: error ${outcome.exitCode} from script: ${command}; exiting`);
      return false;
    }
    workunit.assimilateState = AssimilateState.done;
    workunit.modifiedAt = Date.now();
    return true;
  }

  async function pass(): Promise<void> {
    const now = Date.now();
    const currentConfig = config();
    const daemons = runningDaemons();
    const has = (program: string): boolean => daemons.some((daemon) => daemon.program === program);
    if (has('transitioner')) {
      for (const workunit of workunits.values()) {
        const expired = workunit.results.some((result) => result.serverState === ResultServerState.inProgress && result.reportDeadline < now / 1000);
        if (workunit.transitionNeeded || expired) transition(workunit, now);
      }
    }
    const host = shortHostname();
    const cwd = join(options.projectDirectory, `tmp_${host}`);
    const binDirectory = join(options.projectDirectory, 'bin');
    for (const daemon of daemons) {
      const app = optionValue(daemon.arguments, 'app');
      if (['sample_trivial_validator', 'sample_bitwise_validator', 'script_validator'].includes(daemon.program)) {
        for (const workunit of workunits.values()) {
          if (!workunit.needValidate || workunit.record.appName !== app) continue;
          if (!(await validate(workunit, daemon, currentConfig, cwd, binDirectory))) break;
        }
      }
    }
    if (has('transitioner')) for (const workunit of workunits.values()) if (workunit.transitionNeeded) transition(workunit, now);
    // Each assimilator is its own process in BOINC: they run side by side, each on its share
    // (`--mod N R`) of the app's workunits, one workunit at a time.
    const assimilators = daemons.filter((daemon) => daemon.program.endsWith('assimilator') && (crashedUntil.get(daemon.cmd) ?? 0) <= Date.now());
    await Promise.all(
      assimilators.map(async (daemon) => {
        const app = optionValue(daemon.arguments, 'app');
        const share = workunitModulus(daemon.arguments);
        const ready = [...workunits.values()]
          .filter((workunit) => workunit.record.appName === app && workunit.assimilateState === AssimilateState.ready && (share === undefined || workunit.record.id % share.modulus === share.remainder))
          .sort((a, b) => a.record.id - b.record.id);
        for (const workunit of ready) {
          if (!existsSync(cwd)) break;
          if (workunit.assimilateState !== AssimilateState.ready) continue;
          if (!(await assimilate(workunit, daemon, currentConfig, cwd, binDirectory))) {
            crashedUntil.set(daemon.cmd, Date.now() + options.assimilatorRestartDelayMs);
            break;
          }
        }
      }),
    );
  }

  return {
    workunits,
    workunitsByName,
    results,
    resultsById,
    assimilatorRuns,
    validatorRuns,
    isRunning,
    addWorkunit,
    injectFaults(workunitName: string, fault: ResultFault, times: number): void {
      const list = faults.get(workunitName) ?? [];
      for (let index = 0; index < times; index += 1) list.push(fault);
      faults.set(workunitName, list);
      const workunit = workunitsByName.get(workunitName);
      if (workunit) {
        // Results created already and not sent to any host are taken by the phantom hosts too.
        for (const result of workunit.results) {
          if (result.serverState !== ResultServerState.unsent || list.length === 0) continue;
          applyFault(result, list.shift()!);
        }
        workunit.transitionNeeded = true;
      }
    },
    /** Runs the daemons' passes until nothing more happens; concurrent calls share one run. */
    run(): Promise<void> {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          await pass();
        } while (again);
      })()
        .catch((error: unknown) => options.log(`daemons: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`))
        .finally(() => {
          running = undefined;
          options.onChange();
        });
      return running;
    },
  };
}

export type ProjectDaemons = ReturnType<typeof createProjectDaemons>;
