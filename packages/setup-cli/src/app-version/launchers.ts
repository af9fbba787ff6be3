/**
 * How a volunteer's BOINC client starts tsmw. The client execs the app version's main program
 * as `../../projects/<project>/<physical name>` from the slot, with the workunit's command line
 * followed by the app version's (`client/app_start.cpp`); `update_versions` does not carry a
 * `<cmdline>` from version.xml at all. So Node.js cannot be the main program with the runtime
 * as its first argument: a launcher puts the runtime first.
 *
 * - Linux and macOS: a POSIX shell script that `exec`s Node on the runtime. The Node binary and
 *   the runtime are files of the same app version, so they sit beside the script in the
 *   project directory (`dirname "$0"`), and `exec` leaves no process in between: the exit
 *   status the client sees is Node's own.
 * - Windows: a batch file cannot be a BOINC main program (CreateProcess runs it through
 *   `cmd.exe /c` with the client's command line, whose program path is relative to the client's
 *   directory, not the slot, and written with forward slashes), and a launcher that swallows
 *   Node's exit status is what PyMW got wrong. The main program is Node itself, made a single
 *   executable application: node.exe with `windowsLauncherSource` embedded, which loads the
 *   runtime (the app version's file with the open name `tsmw-runtime.mjs`) in the same process.
 */

/** The open name of the runtime in every tsmw app version. */
export const runtimeOpenName = 'tsmw-runtime.mjs';
/** The open name of the task module: what the runtime reads by default (`--tasks tasks.mjs`). */
export const tasksOpenName = 'tasks.mjs';

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The Linux/macOS launcher for an app version that ships its own Node.js. */
export function bundledNodeLauncher(nodeFileName: string, runtimeFileName: string): string {
  return `#!/bin/sh
# tsmw launcher, written by tsmw-setup. The BOINC client runs it from a slot as
# ../../projects/<project>/<this file>; Node.js and the tsmw runtime are files of the same app
# version, beside it. exec: the client sees Node's own exit status.
dir=$(dirname "$0")
node="$dir/"${shellQuote(nodeFileName)}
runtime="$dir/"${shellQuote(runtimeFileName)}
if [ ! -x "$node" ]; then
  echo "tsmw launcher: the Node.js of this app version is missing or not executable: $node" >&2
  exit 1
fi
if [ ! -r "$runtime" ]; then
  echo "tsmw launcher: the tsmw runtime of this app version is missing: $runtime" >&2
  exit 1
fi
exec "$node" "$runtime" "$@"
`;
}

/** Where the `--node host` launcher looks for node when it is not on the client's PATH (a service's PATH is short). */
export const hostNodeDirectories = ['/usr/local/bin', '/usr/bin', '/opt/homebrew/bin'] as const;

/** The Linux/macOS launcher for `--node host`: the host's Node.js >= 18, or a one-line failure. */
export function hostNodeLauncher(runtimeFileName: string, directories: readonly string[] = hostNodeDirectories): string {
  const candidates = directories.map((directory) => shellQuote(`${directory}/node`)).join(' ');
  return `#!/bin/sh
# tsmw launcher (--node host), written by tsmw-setup: runs the tsmw runtime with the host's
# Node.js. The BOINC client runs it from a slot as ../../projects/<project>/<this file>.
dir=$(dirname "$0")
runtime="$dir/"${shellQuote(runtimeFileName)}
node=$(command -v node 2>/dev/null)
if [ -z "$node" ]; then
  for candidate in ${candidates}; do
    if [ -x "$candidate" ]; then node=$candidate; break; fi
  done
fi
if [ -z "$node" ]; then
  echo "tsmw launcher: no Node.js on this host (not on PATH=$PATH, nor in ${directories.join(', ')}); this app version needs Node.js 18 or newer installed" >&2
  exit 1
fi
major=$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)
case "$major" in
  ''|*[!0-9]*) echo "tsmw launcher: $node does not run" >&2; exit 1 ;;
esac
if [ "$major" -lt 18 ]; then
  echo "tsmw launcher: $node is Node.js $major; tsmw needs 18 or newer" >&2
  exit 1
fi
exec "$node" "$runtime" "$@"
`;
}

/**
 * The main script of the Windows single executable application (CommonJS, as Node's SEA
 * requires). It finds the runtime through its open name in the slot (a `<soft_link>` file, or
 * a copy), then loads it in this process with `require` (Node 24 loads ES modules that way),
 * after setting `process.argv` as if Node had been started on the runtime. When the runtime
 * forks itself for the task process (`node.exe <runtime> --tsmw-task-process`), the runtime
 * path arrives as the first argument and is dropped. Any failure: one line on stderr, exit 1.
 */
export const windowsLauncherSource = `'use strict';
// tsmw launcher for Windows: node.exe with this script embedded (a single executable application).
const { closeSync, openSync, readSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
function fail(message) {
  process.stderr.write('tsmw launcher: ' + message + '\\n');
  process.exit(1);
}
function resolveOpenName(name) {
  const local = path.resolve(name);
  let head = '';
  try {
    const descriptor = openSync(local, 'r');
    try {
      const buffer = Buffer.alloc(4096);
      head = buffer.toString('utf8', 0, readSync(descriptor, buffer, 0, buffer.length, 0));
    } finally {
      closeSync(descriptor);
    }
  } catch (error) {
    fail('cannot read ' + name + ' in ' + process.cwd() + ': ' + error.message);
  }
  const match = /^\\s*<soft_link>([^<]+)<\\/soft_link>/.exec(head);
  return match === null ? local : path.resolve(path.dirname(local), match[1].trim());
}
const runtime = resolveOpenName(${JSON.stringify(runtimeOpenName)});
let args = process.argv.slice(2);
if (args.length > 0 && path.resolve(args[0]) === runtime) args = args.slice(1);
process.argv = [process.execPath, runtime, ...args];
try {
  createRequire(runtime)(runtime);
} catch (error) {
  fail('cannot load the runtime ' + runtime + ': ' + String(error && error.message).split('\\n')[0]);
}
`;
