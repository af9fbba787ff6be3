#!/usr/bin/env node
// The tsmw-validate program tsmw-setup installs into a BOINC project (see src/programs/run-validator.ts).
import { runValidatorInit } from '../programs/run-validator.js';

process.exitCode = await runValidatorInit(process.argv.slice(2), { stderr: (text) => void process.stderr.write(text) });
