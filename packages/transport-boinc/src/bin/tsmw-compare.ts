#!/usr/bin/env node
// The tsmw-compare program tsmw-setup installs into a BOINC project (see src/programs/run-validator.ts).
import { fileURLToPath } from 'node:url';
import { runValidatorCompare } from '../programs/run-validator.js';

process.exitCode = await runValidatorCompare(process.argv.slice(2), { stderr: (text) => void process.stderr.write(text), env: process.env, cwd: process.cwd(), programPath: fileURLToPath(import.meta.url) });
