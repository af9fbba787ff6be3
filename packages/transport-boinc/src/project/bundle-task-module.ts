import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hashTaskModule, indexTaskModule } from '@tsmw/core';
import { build, type BuildFailure } from 'esbuild';
import { TaskModuleBundleError } from '../errors/task-module-bundle-error.js';

/** A task module bundled with its imports into one ES module that needs nothing but Node. */
export interface TaskModuleBundle {
  /** The bundle's bytes: what an app version ships as `tasks.mjs`. */
  readonly code: Uint8Array;
  /** `hashTaskModule(code)`: what every envelope for this code names and the client runtime checks. */
  readonly hash: string;
  /** The Node built-in modules the bundle imports (everything else is inside). */
  readonly builtins: readonly string[];
}

/**
 * The Node version the bundle's syntax targets. Volunteers run the Node.js that `tsmw-setup`
 * ships (24) or, with `--node host`, whatever the host has: 18 is the oldest the client
 * runtime supports.
 */
export const taskModuleBundleTarget = 'node18';

// CommonJS dependencies that `require()` Node built-ins need a `require` inside an ES module.
const banner = "import { createRequire as __tsmwCreateRequire } from 'node:module'; const require = __tsmwCreateRequire(import.meta.url);";

/**
 * Bundles a task module (TypeScript or JavaScript, a path or a `file:` URL) with everything it
 * imports into one ES module. The same source gives the same bytes (and so the same hash)
 * whatever the working directory: the transport on the server and `tsmw-setup deploy` agree
 * on the hash without talking to each other.
 */
export async function bundleTaskModule(entry: string | URL): Promise<TaskModuleBundle> {
  const entryPath = typeof entry === 'string' && !/^file:/i.test(entry) ? resolve(entry) : fileURLToPath(entry);
  let result;
  try {
    result = await build({
      entryPoints: [entryPath],
      absWorkingDir: dirname(entryPath),
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: taskModuleBundleTarget,
      banner: { js: banner },
      legalComments: 'none',
      charset: 'utf8',
      metafile: true,
      logLevel: 'silent',
    });
  } catch (error) {
    const failure = error as Partial<BuildFailure>;
    const first = failure.errors?.[0];
    const where = first?.location === null || first?.location === undefined ? '' : ` (${first.location.file}:${first.location.line}:${first.location.column})`;
    throw new TaskModuleBundleError(`Cannot bundle the task module ${entryPath}: ${first?.text ?? (error as Error).message}${where}`, { cause: error });
  }
  const output = result.outputFiles[0];
  if (output === undefined) throw new TaskModuleBundleError(`Bundling ${entryPath} produced no output`);
  const builtins = new Set<string>();
  for (const file of Object.values(result.metafile.outputs)) {
    for (const imported of file.imports) {
      if (!imported.external) continue;
      if (!isBuiltin(imported.path)) {
        throw new TaskModuleBundleError(`The task module ${entryPath} imports ${JSON.stringify(imported.path)}, which cannot be bundled into one file for volunteers`);
      }
      builtins.add(imported.path);
    }
  }
  builtins.add('node:module'); // the banner's
  const code = new TextEncoder().encode(normalizeModuleComments(output.text, Object.keys(result.metafile.inputs)));
  return { code, hash: hashTaskModule(code), builtins: [...builtins].sort() };
}

/**
 * esbuild marks where each bundled module starts with a line `// <path>`, the path relative to
 * the entry's directory: through a symlinked workspace or another checkout it differs between
 * machines, and with it the hash. Each such line (matched exactly, for the bundle's own inputs)
 * becomes the path from the package on (`// @tsmw/core/dist/index.js`), or the file's name.
 */
function normalizeModuleComments(text: string, inputs: readonly string[]): string {
  const names = new Map<string, string>();
  for (const input of inputs) {
    const slashed = input.replaceAll('\\', '/');
    const inPackage = slashed.lastIndexOf('node_modules/');
    const stable = inPackage >= 0 ? slashed.slice(inPackage + 'node_modules/'.length) : slashed.startsWith('../') ? basename(slashed) : slashed;
    names.set(`// ${input}`, `// ${stable}`);
  }
  return text
    .split('\n')
    .map((line) => names.get(line) ?? line)
    .join('\n');
}

/**
 * Loads a bundle (from a private temporary file) and lists its tasks, to check that it is a
 * task module at all and to record what it offers. Throws `TaskModuleBundleError` when it
 * cannot be loaded or exports no task.
 */
export async function listBundleTasks(bundle: TaskModuleBundle, label = 'tasks.mjs'): Promise<string[]> {
  const directory = await mkdtemp(join(tmpdir(), 'tsmw-bundle-'));
  const path = join(directory, `${basename(label, '.mjs')}-${randomBytes(4).toString('hex')}.mjs`);
  try {
    await writeFile(path, bundle.code, { mode: 0o600 });
    let namespace: unknown;
    try {
      namespace = await import(pathToFileURL(path).href);
    } catch (error) {
      throw new TaskModuleBundleError(`The bundled task module ${label} does not load: ${(error as Error).message}`, { cause: error });
    }
    const names = [...indexTaskModule(namespace).keys()];
    if (names.length === 0) throw new TaskModuleBundleError(`The task module ${label} exports no task (define them with defineTask and export them)`);
    return names;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
