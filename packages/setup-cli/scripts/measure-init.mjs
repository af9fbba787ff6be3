#!/usr/bin/env node
// Measures `tsmw-setup init` (after `npm run build`): with a cold cache (Node.js for every
// platform downloaded from the npm registry, the Windows launcher embedded) and with a warm one,
// each on a fresh copy of the recorded project with stand-in bin/ programs (so BOINC's own
// update_versions and daemon restarts are not in the figures); then each platform's app version
// size, raw and gzip-compressed at level 6 (what update_versions' `gzip` makes of `<gzip/>` files;
// the launcher is sent as it is).
//
//   node scripts/measure-init.mjs [--platforms LIST] [--cache DIR] [--keep-cache]
// With --cache DIR (a cache of an earlier run) the "cold" run is warm too.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const here = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const platformsIndex = args.indexOf('--platforms');
const platforms = platformsIndex >= 0 ? args[platformsIndex + 1] : 'x86_64-pc-linux-gnu,aarch64-unknown-linux-gnu,windows_x86_64,x86_64-apple-darwin';
const root = mkdtempSync(join(tmpdir(), 'tsmw-measure-init-'));
const cacheIndex = args.indexOf('--cache');
const cache = cacheIndex >= 0 ? args[cacheIndex + 1] : join(root, 'cache');

function freshProject(name) {
  const home = join(root, name);
  mkdirSync(join(home, 'bin'), { recursive: true });
  const config = readFileSync(join(here, 'test/fixtures/project/config.xml'), 'utf8').replace('<host>vm</host>', `<host>${hostname().split('.')[0]}</host>`);
  writeFileSync(join(home, 'config.xml'), config);
  copyFileSync(join(here, 'test/fixtures/project/project.xml'), join(home, 'project.xml'));
  for (const program of ['xadd', 'update_versions', 'start', 'stop']) {
    writeFileSync(join(home, 'bin', program), '#!/bin/sh\nexit 0\n');
    chmodSync(join(home, 'bin', program), 0o755);
  }
  return home;
}

function init(home) {
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, [join(here, 'dist/cli.js'), 'init', '-p', home, '-a', 'measure', '-t', join(here, 'test/fixtures/tasks/square.mjs'), '--platforms', platforms, '--cache', cache], { stdio: ['ignore', 'ignore', 'inherit'] });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const cold = init(freshProject('cold'));
const warm = init(freshProject('warm'));
const again = init(join(root, 'warm'));
console.log(`platforms: ${platforms}`);
console.log(`init, ${cacheIndex >= 0 ? 'first run, cache given' : 'cold cache'}: ${cold.toFixed(1)} s`);
console.log(`init, warm cache: ${warm.toFixed(1)} s`);
console.log(`init again (nothing to change): ${again.toFixed(1)} s`);
console.log('');
console.log('| platform | raw | served (gzip -6 where <gzip/>) |');
console.log('|---|---:|---:|');
const versionDirectory = join(root, 'warm', 'apps', 'measure', '1.00');
for (const platform of readdirSync(versionDirectory).sort()) {
  const directory = join(versionDirectory, platform);
  const versionXml = readFileSync(join(directory, 'version.xml'), 'utf8');
  let raw = 0;
  let served = 0;
  for (const name of readdirSync(directory)) {
    if (name === 'version.xml') continue;
    const size = statSync(join(directory, name)).size;
    raw += size;
    const gzipped = new RegExp(`<physical_name>${name.replaceAll('.', '\\.')}</physical_name>(?:(?!</file>)[\\s\\S])*<gzip/>`).test(versionXml);
    served += gzipped ? gzipSync(readFileSync(join(directory, name)), { level: 6 }).length : size;
  }
  console.log(`| ${platform} | ${(raw / 1e6).toFixed(1)} MB | ${(served / 1e6).toFixed(1)} MB |`);
}
if (!args.includes('--keep-cache')) rmSync(root, { recursive: true, force: true });
else console.log(`\nkept ${root}`);
