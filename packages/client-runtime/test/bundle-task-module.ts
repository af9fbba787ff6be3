import { hashTaskModule } from '@tsmw/core';
import { build } from 'esbuild';

/**
 * Bundles a task module into one self-contained ES module, as the setup CLI will for an app
 * version (a volunteer's host has no node_modules), and returns its bytes and sha256 hash.
 */
export async function bundleTaskModule(entry: string): Promise<{ bytes: Uint8Array; moduleHash: string }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node18',
    write: false,
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0]?.contents;
  if (bytes === undefined) throw new Error(`esbuild produced nothing for ${entry}`);
  return { bytes, moduleHash: hashTaskModule(bytes) };
}
