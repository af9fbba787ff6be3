import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.name.endsWith('.test.ts')) continue; // tests are not in the bundle
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The tests run the built runtime (dist/tsmw-runtime.mjs): rebuild it when a source is newer. */
export default function setup(): void {
  let built = 0;
  try {
    built = statSync(join(packageDir, 'dist', 'tsmw-runtime.mjs')).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(newestMtime(join(packageDir, 'src')), newestMtime(join(packageDir, '..', 'core', 'src')), statSync(join(packageDir, 'tsup.config.ts')).mtimeMs);
  if (built < sources) execFileSync('npx', ['tsup'], { cwd: packageDir, stdio: 'ignore' });
}
