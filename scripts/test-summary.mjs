#!/usr/bin/env node
// Adds up the vitest JSON reports of every workspace (written by each package's `test` script,
// and by test-supported-nodes.mjs for the other Nodes) and prints one closing line: "N passed, N failed, N skipped". Exits 1 if any test failed or
// no test ran at all.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];
for (const folder of ['packages', 'apps', 'tools']) {
  if (!existsSync(join(root, folder))) continue;
  for (const name of readdirSync(join(root, folder))) {
    const reports = join(root, folder, name, '.vitest');
    if (!existsSync(reports)) continue;
    // report.json: this machine's Node; report-node<version>.json: another Node (test-supported-nodes.mjs).
    for (const file of readdirSync(reports).filter((entry) => /^report(-node[\d.]+)?\.json$/.test(entry)).sort()) {
      const data = JSON.parse(readFileSync(join(reports, file), 'utf8'));
      const on = file === 'report.json' ? '' : ` on Node ${file.slice('report-node'.length, -'.json'.length)}`;
      const pending = (data.numPendingTests ?? 0) + (data.numTodoTests ?? 0);
      passed += data.numPassedTests ?? 0;
      failed += data.numFailedTests ?? 0;
      skipped += pending;
      lines.push(`${folder}/${name}${on}: ${data.numPassedTests} passed, ${data.numFailedTests} failed, ${pending} skipped`);
      for (const result of data.testResults ?? []) {
        for (const test of result.assertionResults ?? []) {
          if (test.status === 'skipped' || test.status === 'pending') lines.push(`  skipped${on}: ${test.fullName}`);
        }
      }
    }
  }
}
for (const line of lines) console.log(line);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
