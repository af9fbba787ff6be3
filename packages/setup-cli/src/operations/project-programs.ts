import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  const artifacts = transportArtifacts();
  for (const [role, name] of Object.entries(tsmwProgramNames) as [keyof typeof tsmwProgramNames, string][]) {
    const source = artifacts.programs[role];
    const target = join(layout.programsDirectory, `${name}.mjs`);
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

/**
 * Plans `templates/APP_in` and `templates/APP_out` as the transport renders them: BOINC's
 * default templates of the app (what `create_work` and remote submission use when no other is
 * named). They carry no quorum or bounds: the transport passes those per job.
 */
export async function planTemplates(plan: ChangePlan, layout: TsmwProjectLayout, app: string): Promise<void> {
  const artifacts = transportArtifacts();
  await planWrite(plan, join(layout.projectHome, layout.inputTemplateName(app)), artifacts.inputTemplate);
  await planWrite(plan, join(layout.projectHome, layout.outputTemplateName(app)), artifacts.outputTemplate);
}
