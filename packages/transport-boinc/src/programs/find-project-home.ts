import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * The BOINC project a tsmw program works for: `--project DIR`, else `TSMW_PROJECT_HOME`, else
 * the project the program is installed in (`<project>/tsmw/programs/<program>.mjs`), else the
 * parent of the working directory when that holds a `config.xml` (BOINC runs daemons' scripts
 * from `<project>/tmp_<host>`). Undefined when none of these is a directory with `config.xml`.
 */
export function findProjectHome(option: string | undefined, io: { readonly env: NodeJS.ProcessEnv; readonly cwd: string; readonly programPath?: string }): string | undefined {
  const isProject = (directory: string): boolean => existsSync(join(directory, 'config.xml'));
  if (option !== undefined) return isProject(resolve(io.cwd, option)) ? resolve(io.cwd, option) : undefined;
  const fromEnvironment = io.env['TSMW_PROJECT_HOME'];
  if (fromEnvironment !== undefined && fromEnvironment !== '') return isProject(resolve(io.cwd, fromEnvironment)) ? resolve(io.cwd, fromEnvironment) : undefined;
  if (io.programPath !== undefined) {
    const programs = dirname(resolve(io.programPath));
    if (basename(programs) === 'programs' && basename(dirname(programs)) === 'tsmw') {
      const home = dirname(dirname(programs));
      if (isProject(home)) return home;
    }
  }
  const parent = dirname(resolve(io.cwd));
  return isProject(parent) ? parent : undefined;
}
