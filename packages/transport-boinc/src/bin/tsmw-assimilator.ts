#!/usr/bin/env node
// The tsmw-assimilator program tsmw-setup installs into a BOINC project (see src/programs/run-assimilator.ts).
import { fileURLToPath } from 'node:url';
import { runAssimilator } from '../programs/run-assimilator.js';

process.exitCode = await runAssimilator(process.argv.slice(2), { stderr: (text) => void process.stderr.write(text), env: process.env, cwd: process.cwd(), programPath: fileURLToPath(import.meta.url) });
