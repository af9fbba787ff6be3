#!/usr/bin/env node
// Compares the pinned Node.js releases (src/app-version/node-releases.ts, as built into
// dist/index.js) with what the npm registry says of them (`npm view`), and lists the newest 24.x
// of each per-platform package, to help choose the next pin. On demand; not a test (it needs
// the registry). Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { nodeReleases } from '../dist/index.js';

let mismatches = 0;
for (const [platform, release] of Object.entries(nodeReleases)) {
  const view = (field) => JSON.parse(execFileSync('npm', ['view', `${release.packageName}@${release.version}`, field, '--json'], { encoding: 'utf8' }) || 'null');
  const integrity = view('dist.integrity');
  const versions = JSON.parse(execFileSync('npm', ['view', release.packageName, 'versions', '--json'], { encoding: 'utf8' }));
  const newest24 = versions.filter((version) => version.startsWith('24.')).at(-1);
  const ok = integrity === release.integrity;
  if (!ok) mismatches += 1;
  console.log(`${platform.padEnd(26)} ${release.packageName}@${release.version} ${ok ? 'integrity matches' : `INTEGRITY DIFFERS: registry ${integrity}`}; newest 24.x: ${newest24}`);
}
process.exit(mismatches === 0 ? 0 : 1);
