import { fileURLToPath } from 'node:url';
import { hashTaskModule } from '@tsmw/core';
import { build } from 'esbuild';
import type { PhantomVolunteerBundle } from '../src/start-phantom-volunteers.js';

/**
 * The tests' task module (fixtures/runtime-e2e-tasks.ts) bundled into one file, as an app version
 * ships it, with its hash as the master computes it (sha256 of the module file's bytes).
 */
export async function bundleRuntimeTasks(): Promise<PhantomVolunteerBundle> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('fixtures/runtime-e2e-tasks.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node18',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents;
  if (code === undefined) throw new Error('esbuild produced nothing for fixtures/runtime-e2e-tasks.ts');
  return { code, hash: hashTaskModule(code) };
}
