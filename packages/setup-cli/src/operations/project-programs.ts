import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { tsmwProgramNames, type TsmwProjectLayout } from '@tsmw/transport-boinc';
import { planDelete, planWrite, type ChangePlan } from '../plan/change-plan.js';
import { transportArtifacts } from './transport-artifacts.js';

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `bin/` launcher of a tsmw program: BOINC's daemons run `../bin/NAME ARGS` through
 * `system()`, so NAME must be an executable in `bin/`. It runs the self-contained program
 * (kept in `tsmw/programs/`) with the Node.js that ran tsmw-setup, or the one on PATH if that
 * is gone; without any, it fails with one line and exit 3 (BOINC's "transient": the daemon
 * tries again later instead of marking results invalid).
 */
export function programLauncher(name: string, programPath: string, nodePath: string): string {
  return `#!/bin/sh
# ${name}: tsmw's program for BOINC's daemons, written by tsmw-setup (re-run it to rewrite this file).
node=${shellQuote(nodePath)}
if [ ! -x "$node" ]; then
  node=$(command -v node 2>/dev/null)
fi
if [ -z "$node" ]; then
  echo "${name}: no Node.js (neither ${nodePath.replaceAll('"', '')} nor node on PATH)" >&2
  exit 3
fi
exec "$node" ${shellQuote(programPath)} "$@"
`;
}

/** Plans tsmw's programs: each built program into `tsmw/programs/`, its launcher into `bin/`. */
export async function planPrograms(plan: ChangePlan, layout: TsmwProjectLayout): Promise<void> {
  const artifacts = await transportArtifacts();
  if (artifacts === undefined) {
    plan.warnings.push('this @tsmw/transport-boinc build has no assimilator or validator programs: bin/tsmw_* were not installed, and no result can be assimilated until they are');
    return;
  }
  for (const [role, name] of Object.entries(tsmwProgramNames) as [keyof typeof tsmwProgramNames, string][]) {
    const source = artifacts.programs[role];
    const target = join(layout.programsDirectory, basename(source));
    await planWrite(plan, target, await readFile(source), { mode: 0o644, text: false });
    await planWrite(plan, layout.binPath(name), programLauncher(name, target, process.execPath), { mode: 0o755 });
  }
}

/** Plans the removal of tsmw's programs (when no tsmw app is left in the project). */
export async function planProgramRemoval(plan: ChangePlan, layout: TsmwProjectLayout): Promise<void> {
  for (const name of Object.values(tsmwProgramNames)) {
    const launcher = layout.binPath(name);
    let text: string;
    try {
      text = await readFile(launcher, 'utf8');
    } catch {
      continue;
    }
    if (!text.includes('written by tsmw-setup')) continue; // not ours
    const program = /exec "\$node" '([^']+)'/.exec(text)?.[1];
    await planDelete(plan, launcher, { text: true });
    if (program !== undefined && program.startsWith(layout.programsDirectory)) await planDelete(plan, program);
  }
  plan.emptyDirectories.push(layout.programsDirectory);
}

export interface TemplateOptions {
  readonly minQuorum: number;
  readonly targetNresults: number;
}

/** Plans `templates/APP_in` and `templates/APP_out`, as the transport renders them. */
export async function planTemplates(plan: ChangePlan, layout: TsmwProjectLayout, app: string, options: TemplateOptions): Promise<void> {
  const artifacts = await transportArtifacts();
  if (artifacts === undefined) {
    plan.warnings.push(`this @tsmw/transport-boinc build renders no templates: templates/${app}_in and _out were not written`);
    return;
  }
  await planWrite(plan, join(layout.projectHome, layout.inputTemplateName(app)), artifacts.inputTemplate(app, options));
  await planWrite(plan, join(layout.projectHome, layout.outputTemplateName(app)), artifacts.outputTemplate(app, options));
}
