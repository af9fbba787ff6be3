import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built runtime (test/global-setup.ts rebuilds it when a source is newer). */
export const runtimeBin = fileURLToPath(new URL('../dist/tsmw-runtime.mjs', import.meta.url));

export interface RuntimeRun {
  readonly process: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the runtime exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
}

/** Starts `tsmw-runtime ARGS` in `cwd`, as the client would (the slot as working directory); `as` runs it as another user (needs root). */
export function startRuntime(cwd: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}, as?: { readonly uid: number; readonly gid: number }): RuntimeRun {
  const child = spawn(process.execPath, [runtimeBin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(as === undefined ? {} : { uid: as.uid, gid: as.gid }) });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stderr, stdout }));
    // A runtime that cannot start (EACCES, ENOENT) ends the run with the reason, not an uncaught error.
    child.once('error', (error) => resolve({ code: null, signal: null, stderr: `${stderr}spawn failed: ${error.message}\n`, stdout }));
  });
  return { process: child, stderr: () => stderr, exited };
}

export const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Polls `check` every 50 ms until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Whether the unprivileged user (uid/gid 65534) can run this Node and read the runtime: not when
 * Node lives under a directory only root may enter (a Node installed into /root/.cache, as the
 * supported-Node runs do).
 */
export function nobodyCanRunRuntime(): boolean {
  const result = spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(runtimeBin)}, 4)`], { cwd: '/', uid: 65534, gid: 65534, stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}
