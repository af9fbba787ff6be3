#!/usr/bin/env node
// The `tsmw-runtime` program: what a BOINC client starts in a slot to run one tsmw task. Built
// into one self-contained file (dist/tsmw-runtime.mjs) that needs nothing but Node >= 18.
import { fileURLToPath } from 'node:url';
import { runRuntime } from './run-runtime.js';
import { parseRuntimeArguments, runtimeUsage } from './runtime-arguments.js';
import type { RuntimeArguments } from './runtime-arguments.js';
import { runTaskProcess } from './task-process.js';
import { taskProcessFlag } from './task-process-protocol.js';
import { runtimeVersion } from './runtime-version.js';

function main(): void {
  if (process.argv[2] === taskProcessFlag) {
    runTaskProcess();
    return;
  }
  let args: RuntimeArguments;
  try {
    args = parseRuntimeArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`tsmw-runtime: ${(error as Error).message}\n`);
    process.exit(1);
  }
  if (args.help) {
    process.stdout.write(`${runtimeUsage}\n`);
    return;
  }
  if (args.version) {
    process.stdout.write(`${runtimeVersion}\n`);
    return;
  }
  runRuntime(args, { bundlePath: fileURLToPath(import.meta.url), version: runtimeVersion }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`tsmw-runtime: unexpected failure: ${String((error as Error)?.message ?? error).split('\n')[0]}\n`);
      process.exit(1);
    },
  );
}

main();
