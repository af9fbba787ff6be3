#!/usr/bin/env node
// The `tsmw-setup` command: a file that exists before the build, so that npm links it on install
// (npm links no bin whose file is missing, as dist/ is on a fresh clone), running the built CLI.
import '../dist/cli.js';
