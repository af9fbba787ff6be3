import { posix } from 'node:path';
import { tsmwProgramNames } from '@tsmw/transport-boinc';
import { ProjectFileError } from '../errors/project-file-error.js';
import { childElements, childText, parseXmlDocument, type XmlDocument, type XmlElementNode } from './xml-document.js';
import { applyTextEdits, childIndentation, insertChildEdit, removeElementEdit, renderElement, replaceElementEdit, type TextEdit } from './xml-edits.js';

export type DaemonRole = 'assimilator' | 'validator' | 'other';

/** One `<daemon>` of config.xml, as BOINC's `bin/start` reads it. */
export interface DaemonEntry {
  readonly element: XmlElementNode;
  readonly cmd: string;
  /** The program's base name (`script_assimilator`), after `run_in_ops` if any. */
  readonly program: string;
  /** The value of `--app` / `-app`, when the command has one. */
  readonly app: string | undefined;
  readonly role: DaemonRole;
  readonly output: string | undefined;
  readonly pidFile: string | undefined;
  /** `<host>` of the daemon (bin/start defaults it to config's `<host>`). */
  readonly host: string | undefined;
  readonly disabled: boolean;
  /** The app whose tsmw daemon this is (read from its tsmw pid file name), else undefined. */
  readonly tsmwApp: string | undefined;
}

/** config.xml, parsed, with what tsmw needs: the daemons and the project's host. */
export interface ConfigXml {
  readonly document: XmlDocument;
  readonly root: XmlElementNode;
  readonly daemonsElement: XmlElementNode;
  readonly daemons: readonly DaemonEntry[];
  /** `<config><host>`: the host `bin/start` runs daemons on. */
  readonly host: string | undefined;
  readonly config: Readonly<Record<string, string>>;
}

/** What tsmw wants in `<daemons>` for one app. */
export interface DaemonSpec {
  readonly role: 'assimilator' | 'validator';
  readonly cmd: string;
  readonly output: string;
  readonly pidFile: string;
}

const tsmwPidFilePattern = /^tsmw_(.+)_(assimilator|validator)\.pid$/;

/**
 * Reads config.xml. Not XML, a root other than `<boinc>`, no `<daemons>` or two of them, a
 * `<daemon>` without `<cmd>`: a `ProjectFileError` naming the line, before anything is written.
 */
export function readConfigXml(text: string, label = 'config.xml'): ConfigXml {
  const document = parseXmlDocument(text, label);
  const { root } = document;
  if (root.name !== 'boinc') throw new ProjectFileError(`${label}: the root element is <${root.name}>, not <boinc>; is this a BOINC project's config.xml? Nothing was changed`);
  const daemonsElements = childElements(root, 'daemons');
  if (daemonsElements.length === 0) throw new ProjectFileError(`${label} has no <daemons> element under <boinc>; BOINC's make_project writes one: add "<daemons></daemons>" and run again. Nothing was changed`);
  if (daemonsElements.length > 1) throw new ProjectFileError(`${label} has ${daemonsElements.length} <daemons> elements (lines ${daemonsElements.map((element) => element.line).join(', ')}); keep one. Nothing was changed`);
  const daemonsElement = daemonsElements[0]!;
  const daemons = daemonsElement.children.map((element): DaemonEntry => {
    if (element.name !== 'daemon') throw new ProjectFileError(`${label} line ${element.line}: <${element.name}> inside <daemons>, where only <daemon> belongs. Nothing was changed`);
    const cmd = childText(element, 'cmd');
    if (cmd === undefined || cmd === '') throw new ProjectFileError(`${label} line ${element.line}: a <daemon> without a <cmd>. Nothing was changed`);
    return describeDaemon(element, cmd);
  });
  const configElement = childElements(root, 'config')[0];
  const config: Record<string, string> = {};
  if (configElement !== undefined) {
    for (const child of configElement.children) if (child.children.length === 0) config[child.name] = child.text.trim();
  }
  return { document, root, daemonsElement, daemons, host: config['host'], config };
}

function describeDaemon(element: XmlElementNode, cmd: string): DaemonEntry {
  const tokens = cmd.split(/\s+/).filter((token) => token !== '');
  const programPath = tokens[0] === 'run_in_ops' ? (tokens[1] ?? '') : (tokens[0] ?? '');
  const program = posix.basename(programPath);
  let app: string | undefined;
  for (let index = 1; index < tokens.length - 1; index += 1) {
    if (tokens[index] === '--app' || tokens[index] === '-app') app = tokens[index + 1];
  }
  const role: DaemonRole = /assimilator$/.test(program) ? 'assimilator' : /validator$/.test(program) ? 'validator' : 'other';
  const pidFile = childText(element, 'pid_file');
  const disabledText = childText(element, 'disabled');
  const owned = pidFile === undefined ? null : tsmwPidFilePattern.exec(pidFile);
  return {
    element,
    cmd,
    program,
    app,
    role,
    output: childText(element, 'output'),
    pidFile,
    host: childText(element, 'host'),
    // bin/start: <disabled/> or any value but "0" disables.
    disabled: disabledText !== undefined && disabledText !== '0',
    tsmwApp: owned !== null && owned[2] === role ? owned[1] : undefined,
  };
}

/**
 * The daemons tsmw runs for an app, in the argument forms that work in current BOINC: the
 * programs get BOINC's DEFAULT arguments (custom argument tokens after the script name are
 * broken since 2025, `split()` keeps the delimiter), so only the script name is given.
 * - `script_assimilator --app APP --script tsmw_assimilator` runs `../bin/tsmw_assimilator WU_ID FILES...`,
 *   or `... --error ERRMASK WU_NAME WU_ID BATCH` for a failed workunit;
 * - quorum 1: `sample_trivial_validator --app APP` (every result valid; the assimilator checks it decodes);
 * - quorum > 1: `script_validator --app APP --init_script tsmw_validate --compare_script tsmw_compare`
 *   (`tsmw_validate FILES`, `tsmw_compare FILES FILES2`; exit 0 valid/match, 1 not, 3 transient).
 * Each has its own `<output>` and `<pid_file>`: `bin/start` names a daemon's log, pid and lock
 * files after its program unless told, so two apps' `script_assimilator`s would share one lock
 * and the second would never start. The `tsmw_<app>_` names also mark them as tsmw's.
 */
export function tsmwDaemonSpecs(app: string, minQuorum: number): DaemonSpec[] {
  const validatorCmd =
    minQuorum <= 1
      ? `sample_trivial_validator -d 3 --app ${app}`
      : `script_validator -d 3 --app ${app} --init_script ${tsmwProgramNames.validatorInit} --compare_script ${tsmwProgramNames.validatorCompare}`;
  return [
    { role: 'validator', cmd: validatorCmd, output: `tsmw_${app}_validator.log`, pidFile: `tsmw_${app}_validator.pid` },
    {
      role: 'assimilator',
      cmd: `script_assimilator -d 3 --app ${app} --script ${tsmwProgramNames.assimilator}`,
      output: `tsmw_${app}_assimilator.log`,
      pidFile: `tsmw_${app}_assimilator.pid`,
    },
  ];
}

/** The daemons of config.xml that serve `app` as validator or assimilator. */
export function daemonsForApp(config: ConfigXml, app: string): DaemonEntry[] {
  return config.daemons.filter((daemon) => daemon.role !== 'other' && (daemon.app === app || daemon.tsmwApp === app));
}

/**
 * config.xml with exactly `specs` as tsmw's daemons for `app` (an empty list removes them):
 * tsmw's own daemons are kept when right, replaced in place when different, added after the
 * last daemon when missing; nothing else in the file changes. A validator or assimilator for
 * the app that tsmw did not add, or two tsmw daemons of one role, stop it with a
 * `ProjectFileError` (only when adding: removing never needs them).
 */
export function reconcileTsmwDaemons(config: ConfigXml, app: string, specs: readonly DaemonSpec[], label = 'config.xml'): string {
  const { document } = config;
  const owned = config.daemons.filter((daemon) => daemon.tsmwApp === app);
  if (specs.length > 0) {
    const foreign = daemonsForApp(config, app).filter((daemon) => daemon.tsmwApp !== app);
    const first = foreign[0];
    if (first !== undefined) {
      throw new ProjectFileError(
        `${label} line ${first.element.line} already runs a ${first.role} for app ${app} that tsmw did not add (${JSON.stringify(first.cmd)}); tsmw needs its own. Remove or disable that <daemon> and run again. Nothing was changed`,
      );
    }
  }
  const edits: TextEdit[] = [];
  const { child: childIndent, unit } = childIndentation(document, config.daemonsElement, config.root);
  const render = (spec: DaemonSpec): string =>
    renderElement(
      'daemon',
      [
        ['cmd', spec.cmd],
        ['output', spec.output],
        ['pid_file', spec.pidFile],
      ],
      childIndent,
      unit,
      document.newline,
    );
  const inserted: string[] = [];
  for (const role of ['validator', 'assimilator'] as const) {
    const mine = owned.filter((daemon) => daemon.role === role);
    if (mine.length > 1) {
      throw new ProjectFileError(`${label} has ${mine.length} tsmw ${role}s for app ${app} (lines ${mine.map((daemon) => daemon.element.line).join(', ')}); remove all but one. Nothing was changed`);
    }
    const spec = specs.find((candidate) => candidate.role === role);
    const existing = mine[0];
    if (spec === undefined) {
      if (existing !== undefined) edits.push(removeElementEdit(document, config.daemonsElement, existing.element));
    } else if (existing === undefined) {
      inserted.push(render(spec));
    } else if (existing.cmd !== spec.cmd || existing.output !== spec.output || existing.pidFile !== spec.pidFile) {
      edits.push(replaceElementEdit(existing.element, render(spec)));
    }
  }
  if (inserted.length > 0) edits.push(insertChildEdit(document, config.daemonsElement, inserted.join(`${document.newline}${childIndent}`), childIndent));
  return applyTextEdits(document.text, edits);
}
