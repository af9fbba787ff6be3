#!/usr/bin/env node
// The part of `npm test` (also `npm run test:supported` alone) that tests every supported Node and
// what ships:
//   1. Installs the other supported Nodes from the npm registry (node-<platform>-<arch>@<version>)
//      into a cache directory, once, and runs the published packages' tests on each (all but the
//      BOINC end-to-end and fake-project runs, which `npm test` runs on this machine's Node).
//   2. Packs every published package (npm pack), checks each tarball, installs the tarballs into
//      a fresh project outside the workspace, and runs the README's "In code" and TypeScript
//      examples and the usage samples of the @tsmw/core, @tsmw/transport-local and
//      @tsmw/client-runtime READMEs, exactly as written, on this machine's Node and on each other
//      one; then does the same with the project template (apps/examples/template). (The samples
//      that need a BOINC project, in the @tsmw/transport-boinc and @tsmw/setup-cli READMEs, run
//      against a fake project in those tests: apps/examples/src/transport-boinc-readme.e2e.test.ts,
//      packages/setup-cli/test/readme.integration.test.ts.)
// Ends with one line "N passed, N failed"; exits 1 if anything failed.
// Options: --skip-package-tests (only the tarball checks), --node 22.23.3 (only that extra Node).
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The other supported Nodes, pinned: the newest 22 and 24 the registry has as packages. */
const otherNodes = ['22.23.3', '24.9.0'];

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const skipPackageTests = argv.includes('--skip-package-tests');
const onlyNode = argv.includes('--node') ? argv[argv.indexOf('--node') + 1] : undefined;
const nodeCache = process.env.TSMW_NODE_CACHE ?? join(homedir(), '.cache', 'tsmw', 'node');

let passed = 0;
let failed = 0;
const failures = [];

/** The lines of the run in progress, when runs overlap: each run's lines are printed together. */
const runLog = new AsyncLocalStorage();

function report(line) {
  const log = runLog.getStore();
  if (log === undefined) process.stdout.write(line);
  else log.push(line);
}

/** Runs `work` with its report lines held back, then prints them together. */
async function reportTogether(work) {
  const log = [];
  try {
    await runLog.run(log, work);
  } finally {
    process.stdout.write(log.join(''));
  }
}

function check(name, ok, detail = '') {
  if (ok) passed += 1;
  else {
    failed += 1;
    failures.push(`${name}${detail ? `\n${detail}` : ''}`);
  }
  report(`${ok ? 'ok  ' : 'FAIL'} ${name}\n`);
  return ok;
}

/** Runs a command; resolves with its exit code and output, never rejects. */
function run(command, args, { cwd = root, env = process.env, timeout = 15 * 60_000 } = {}) {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

/** Runs a shell line (from the README) in a directory with a given Node first on PATH. */
function shell(line, { cwd, nodeBin }) {
  return run('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', line], { cwd, env: withNode(nodeBin) });
}

function withNode(nodeBin) {
  const env = { ...process.env, PATH: `${dirname(nodeBin)}${delimiter}${process.env.PATH}` };
  // Settings of the npm that runs this script must not leak into the fresh project's npm.
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key === 'INIT_CWD') delete env[key];
  return env;
}

const describe = (result) => `exit ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`;

/** Installs node-<platform>-<arch>@version into the cache once; returns the path of its binary. */
async function installNode(version) {
  const packageName = `node-${process.platform}-${process.arch}`;
  const prefix = join(nodeCache, version);
  const bin = join(prefix, 'node_modules', packageName, 'bin', 'node');
  if (!existsSync(bin)) {
    await mkdir(prefix, { recursive: true });
    const install = await run('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `${packageName}@${version}`]);
    if (install.code !== 0) throw new Error(`Cannot install ${packageName}@${version}: ${describe(install)}`);
  }
  const reported = (await run(bin, ['--version'])).stdout.trim();
  if (reported !== `v${version}`) throw new Error(`${bin} reports ${reported}, not v${version}`);
  return bin;
}

/** The published packages: packages/* that are not private. */
function publishedPackages() {
  return readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .filter((directory) => existsSync(join(directory, 'package.json')))
    .map((directory) => ({ directory, manifest: JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true);
}

// ---- 1. the packages' tests on the other Nodes ---------------------------------------------

/**
 * What runs again on the other Nodes: what depends on the Node version (the codec, the master,
 * worker threads and processes, the client runtime's slot handling, the setup CLI's file edits).
 * The BOINC end-to-end and fake-project integration runs exercise processes and files, not the
 * Node version, and run once, on this machine's Node, in `npm test`.
 */
const otherNodeExcludes = {
  // The master's scale and the file transport's conformance run test logic, not the Node.
  '@tsmw/core': ['**/*.e2e.test.ts', '**/scale.test.ts', '**/file-transport.test.ts'],
  // The pool's conformance and crash tests run on each Node; the close race (40 processes),
  // fairness and task-started runs, once.
  '@tsmw/transport-local': ['**/*.e2e.test.ts', '**/pool-close.integration.test.ts', '**/pool-fairness.integration.test.ts', '**/task-started.integration.test.ts'],
  '@tsmw/client-runtime': ['**/*.e2e.test.ts'],
  '@tsmw/transport-boinc': ['**/*.e2e.test.ts', '**/*.integration.test.ts'],
  '@tsmw/setup-cli': ['**/*.e2e.test.ts', '**/*.integration.test.ts'],
};

async function runPackageTests(version, nodeBin) {
  for (const { directory, manifest } of publishedPackages()) {
    if (manifest.scripts?.test === undefined) continue;
    const excludes = (otherNodeExcludes[manifest.name] ?? ['**/*.e2e.test.ts', '**/*.integration.test.ts']).flatMap((glob) => ['--exclude', glob]);
    // The package's own vitest run, with a report of its own: Nodes run side by side.
    const reportFile = join(directory, '.vitest', `report-node${version}.json`);
    await rm(reportFile, { force: true });
    const started = performance.now();
    const result = await run(join(root, 'node_modules', '.bin', 'vitest'), ['run', ...excludes, '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`], {
      cwd: directory,
      env: { ...withNode(nodeBin), CI: process.env.CI ?? '' },
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    if (!existsSync(reportFile)) {
      check(`${manifest.name} tests on Node ${version} (${seconds} s)`, false, describe(result));
      continue;
    }
    const data = JSON.parse(readFileSync(reportFile, 'utf8'));
    passed += data.numPassedTests ?? 0;
    failed += data.numFailedTests ?? 0;
    const ok = result.code === 0 && (data.numFailedTests ?? 0) === 0;
    report(`${ok ? 'ok  ' : 'FAIL'} ${manifest.name} on Node ${version}: ${data.numPassedTests} passed, ${data.numFailedTests} failed (${seconds} s)\n`);
    if (!ok) failures.push(`${manifest.name} on Node ${version}\n${describe(result)}`);
  }
}

// ---- 2. the README's examples from packed tarballs -----------------------------------------

/** The code blocks of a README marked `<!-- readme-test: scenario/name -->`, by "scenario/name". */
function markedBlocks(file) {
  const text = readFileSync(file, 'utf8');
  const blocks = new Map();
  for (const match of text.matchAll(/<!-- readme-test: ([\w.-]+\/[\w.-]+) -->\n```[\w]*\n([\s\S]*?)```/g)) blocks.set(match[1], match[2]);
  return blocks;
}

/** The repository README's marked blocks, and those of the packages' READMEs. */
function readmeBlocks() {
  const blocks = markedBlocks(join(root, 'README.md'));
  for (const { directory } of publishedPackages()) for (const [name, block] of markedBlocks(join(directory, 'README.md'))) blocks.set(name, block);
  return { readme: readFileSync(join(root, 'README.md'), 'utf8'), blocks };
}

async function packTarballs(destination) {
  const tarballs = new Map();
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  for (const { directory, manifest } of publishedPackages()) {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', destination], { cwd: directory });
    if (!check(`npm pack ${manifest.name}`, packed.code === 0, describe(packed))) continue;
    const [info] = JSON.parse(packed.stdout);
    const files = new Set(info.files.map((file) => file.path));
    check(`${manifest.name} tarball has LICENSE, README.md and its entry points`, files.has('LICENSE') && files.has('README.md') && files.has('package.json') && files.has(manifest.types?.replace(/^\.\//, '') ?? 'package.json'), [...files].join('\n'));
    const shipped = await run('tar', ['-xOzf', join(destination, info.filename), 'package/LICENSE']);
    check(`${manifest.name} tarball's LICENSE is the repository's`, shipped.stdout === license);
    tarballs.set(manifest.name, join(destination, info.filename));
  }
  return tarballs;
}

/** Runs the README's examples in a fresh project on one Node. */
async function runReadmeExamples(version, nodeBin, tarballs, blocks, readme) {
  const project = await mkdtemp(join(tmpdir(), `tsmw-readme-node${version.split('.')[0]}-`));
  try {
    const parent = dirname(project);
    // "In code": the setup lines as written, but the packages from the tarballs.
    const setup = blocks
      .get('in-code/setup')
      .replaceAll(/^mkdir squares && cd squares$/gm, `cd ${JSON.stringify(project)}`)
      .replace('npm install @tsmw/core @tsmw/transport-local', `npm install --no-audit --no-fund ${[tarballs.get('@tsmw/core'), tarballs.get('@tsmw/transport-local')].join(' ')}`);
    const installed = await shell(setup, { cwd: parent, nodeBin });
    if (!check(`Node ${version}: the README's setup installs the packed tarballs in a fresh project`, installed.code === 0, describe(installed))) return;
    check(`Node ${version}: npm install prints no engine warning`, !/EBADENGINE/.test(installed.stderr + installed.stdout), installed.stderr);
    for (const name of ['tasks.js', 'master.js']) await writeFile(join(project, name), blocks.get(`in-code/${name}`));
    const expected = blocks.get('in-code/output');
    const inCode = await shell(blocks.get('in-code/run'), { cwd: project, nodeBin });
    check(`Node ${version}: "In code" prints what the README says`, inCode.code === 0 && inCode.stdout === expected, describe(inCode));
    // The packages' READMEs: their usage samples, in the same project.
    for (const scenario of ['core', 'local']) {
      for (const name of ['tasks.js', 'master.js']) await writeFile(join(project, name), blocks.get(`${scenario}/${name}`));
      const sample = await shell('node master.js', { cwd: project, nodeBin });
      const printed = scenario === 'core' ? sample.stdout === '49\n[ 1, 4, 9 ]\ncompleted 64\n' : /^pi is about 3\.1\d*\n$/.test(sample.stdout);
      check(`Node ${version}: the ${scenario === 'core' ? '@tsmw/core' : '@tsmw/transport-local'} README's usage runs and prints what it says`, sample.code === 0 && printed, describe(sample));
    }
    // @tsmw/core and @tsmw/transport-local have no dependencies with install scripts: npm 11 has nothing to warn about.
    check(`Node ${version}: npm install prints no install-scripts warning`, !/install-scripts/.test(installed.stderr + installed.stdout), installed.stderr);

    // @tsmw/client-runtime's README: by hand (a task module, an envelope made with @tsmw/core,
    // `npx tsmw-runtime` from the installed bin, the result read back), then the library entry.
    const runtimeInstall = await shell(`npm install --no-audit --no-fund ${[tarballs.get('@tsmw/core'), tarballs.get('@tsmw/client-runtime')].join(' ')}`, { cwd: project, nodeBin });
    if (check(`Node ${version}: @tsmw/client-runtime installs from its tarball`, runtimeInstall.code === 0, describe(runtimeInstall))) {
      for (const name of ['tasks.mjs', 'make-task.mjs', 'read-result.mjs', 'ship-runtime.mjs']) await writeFile(join(project, name), blocks.get(`runtime/${name}`));
      const byHand = await shell(blocks.get('runtime/run'), { cwd: project, nodeBin });
      const noted = byHand.stderr.trim().split('\n');
      check(`Node ${version}: the @tsmw/client-runtime README's by-hand run prints 144 and one note`, byHand.code === 0 && byHand.stdout === '144\n' && noted.length === 1 && /^tsmw-runtime: no init_data\.xml in .*: running by hand/.test(noted[0]), describe(byHand));
      const ship = await shell('node ship-runtime.mjs', { cwd: project, nodeBin });
      check(`Node ${version}: the @tsmw/client-runtime README's library sample names the version and the bundle's size`, ship.code === 0 && /^tsmw-runtime \d+\.\d+\.\d+: \d+ bytes\n$/.test(ship.stdout), describe(ship));
    }

    // TypeScript: the README's files, then each way of running them that the README lists for this Node.
    const tsSetup = await shell(blocks.get('typescript/setup').replace('npm install', 'npm install --no-audit --no-fund'), { cwd: project, nodeBin });
    if (!check(`Node ${version}: the TypeScript setup installs`, tsSetup.code === 0, describe(tsSetup))) return;
    for (const name of ['tsconfig.json', 'tasks.ts', 'master.ts']) await writeFile(join(project, name), blocks.get(`typescript/${name}`));
    const [major, minor] = version.split('.').map(Number);
    const ways = [['compiled', blocks.get('typescript/run').trim()]];
    if (major > 22 || (major === 22 && minor >= 18)) ways.push(['type stripping', 'node master.ts']);
    if (major >= 22) ways.push(['tsx', 'npx tsx master.ts']);
    else {
      const processIsolation = "createLocalTransport({ isolation: 'process' })";
      await writeFile(join(project, 'master-process.ts'), blocks.get('typescript/master.ts').replace('createLocalTransport()', processIsolation));
      check('the README names the Node 20 + tsx remedy', readme.includes(`\`${processIsolation}\``));
      ways.push(['tsx with worker processes', 'npx tsx master-process.ts']);
    }
    for (const [way, command] of ways) {
      if (way !== 'tsx with worker processes') check(`README lists \`${command}\``, readme.includes(`\`${command}\``) || readme.includes(`${command}\n`));
      const result = await shell(command, { cwd: project, nodeBin });
      check(`Node ${version}: TypeScript, ${way} (${command}) prints what the README says`, result.code === 0 && result.stdout === expected, describe(result));
    }

    // Stacks: compiled, with --enable-source-maps, a task's stack names the .ts file, thread or process.
    await writeFile(join(project, 'failing-tasks.ts'), "import { defineTask } from '@tsmw/core';\n\nexport const fail = defineTask('fail', (n: number): number => {\n  throw new Error(`no ${n}`);\n});\n");
    await writeFile(
      join(project, 'failing-master.ts'),
      [
        "import { createMaster } from '@tsmw/core';",
        "import { createLocalTransport } from '@tsmw/transport-local';",
        "import { fail } from './failing-tasks.ts';",
        "for (const isolation of ['thread', 'process'] as const) {",
        "  const master = await createMaster({ transport: createLocalTransport({ workers: 1, isolation }), tasks: new URL('./failing-tasks.js', import.meta.url) });",
        '  try {',
        '    await (await master.submit(fail, 1)).result;',
        '  } catch (error) {',
        "    console.log(isolation, (error as { remote?: { stack?: string } }).remote?.stack?.split('\\n')[1]?.trim());",
        '  } finally {',
        '    await master.close();',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const stacks = await shell('npx tsc && node --enable-source-maps dist/failing-master.js', { cwd: project, nodeBin });
    check(`Node ${version}: with --enable-source-maps a task's stack points into the .ts file (threads and processes)`, stacks.code === 0 && /^thread .*failing-tasks\.ts:4:\d+/m.test(stacks.stdout) && /^process .*failing-tasks\.ts:4:\d+/m.test(stacks.stdout), describe(stacks));
  } finally {
    await rm(project, { recursive: true, force: true });
  }
}

/** Whether a caret range such as ^0.1.0 or ^1.2.3 admits a version (what npm would install). */
function caretAdmits(range, version) {
  const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (match === null) return false;
  const [major, minor, patch] = match.slice(1).map(Number);
  const [vMajor, vMinor, vPatch] = version.split('.').map(Number);
  if (vMajor !== major) return false;
  if (major === 0 && vMinor !== minor) return false;
  return vMinor > minor || (vMinor === minor && vPatch >= patch);
}

/** The template, copied out as its README says, on one Node: install, build, start (and dev on 22+). */
async function runTemplate(version, nodeBin, tarballs) {
  const source = join(root, 'apps', 'examples', 'template');
  const manifest = JSON.parse(await readFile(join(source, 'package.json'), 'utf8'));
  for (const [name, range] of Object.entries(manifest.dependencies)) {
    const current = publishedPackages().find((entry) => entry.manifest.name === name)?.manifest.version;
    check(`template depends on ${name}@${range}, which admits the current ${current}`, current !== undefined && caretAdmits(range, current));
  }
  const project = await mkdtemp(join(tmpdir(), `tsmw-template-node${version.split('.')[0]}-`));
  try {
    await cp(source, project, { recursive: true });
    // The registry names, from the tarballs until the first release (as the template's README says).
    const installed = await shell(`npm install --no-audit --no-fund ${[tarballs.get('@tsmw/core'), tarballs.get('@tsmw/transport-local')].join(' ')} && npm install --no-audit --no-fund`, { cwd: project, nodeBin });
    if (!check(`Node ${version}: the template installs in a folder of its own`, installed.code === 0, describe(installed))) return;
    check(`Node ${version}: the template's install prints no warning`, !/npm warn/i.test(installed.stderr), installed.stderr);
    const pattern = /^pi is about 3\.1\d{4} \((\d+) darts in (\d+) tasks, error /;
    const started = await shell('npm run build --silent && npm start --silent -- --darts 4000000 --tasks 8 --workers 2', { cwd: project, nodeBin });
    const match = pattern.exec(started.stdout);
    check(`Node ${version}: the template builds and prints its estimate of pi`, started.code === 0 && match !== null && match[1] === '4000000' && match[2] === '8', describe(started));
    if (Number(version.split('.')[0]) >= 22) {
      const dev = await shell('npm run dev --silent -- --darts 1000000 --tasks 4', { cwd: project, nodeBin });
      check(`Node ${version}: the template runs with tsx (npm run dev)`, dev.code === 0 && pattern.test(dev.stdout), describe(dev));
    }
  } finally {
    await rm(project, { recursive: true, force: true });
  }
}

// ---- main ------------------------------------------------------------------------------------

const started = performance.now();
const phase = (name, since) => process.stdout.write(`     (${name}: ${((performance.now() - since) / 1000).toFixed(0)} s)\n`);
const versions = onlyNode === undefined ? otherNodes : [onlyNode];
const nodeBins = new Map();
for (const [version, bin] of await Promise.all(versions.map(async (version) => [version, await installNode(version)]))) nodeBins.set(version, bin);
phase('Nodes from the registry', started);
const building = performance.now();

const build = await run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
if (!check('build every package', build.code === 0, describe(build))) process.exit(1);
phase('build', building);

// The other Nodes' package tests (CPU-bound) and the tarball checks (mostly npm installing)
// side by side; each run's lines are printed together when it ends.
const packageTests = skipPackageTests
  ? Promise.resolve()
  : Promise.all(
      versions.map((version) =>
        reportTogether(async () => {
          const begun = performance.now();
          await runPackageTests(version, nodeBins.get(version));
          report(`     (package tests on Node ${version}: ${((performance.now() - begun) / 1000).toFixed(0)} s)\n`);
        }),
      ),
    );

const tarballChecks = (async () => {
  const workspace = await mkdtemp(join(tmpdir(), 'tsmw-tarballs-'));
  try {
    const tarballs = await packTarballs(workspace);
    const { readme, blocks } = readmeBlocks();
    for (const name of ['core/tasks.js', 'core/master.js', 'local/tasks.js', 'local/master.js', 'in-code/setup', 'in-code/tasks.js', 'in-code/master.js', 'in-code/run', 'in-code/output', 'typescript/setup', 'typescript/tsconfig.json', 'typescript/tasks.ts', 'typescript/master.ts', 'typescript/run', 'runtime/tasks.mjs', 'runtime/make-task.mjs', 'runtime/read-result.mjs', 'runtime/run', 'runtime/ship-runtime.mjs']) {
      if (!blocks.has(name)) throw new Error(`README.md has no block marked <!-- readme-test: ${name} -->`);
    }
    const all = [[process.versions.node, process.execPath], ...versions.map((version) => [version, nodeBins.get(version)])];
    await Promise.all(
      all.map(([version, nodeBin]) =>
        reportTogether(async () => {
          const begun = performance.now();
          await runReadmeExamples(version, nodeBin, tarballs, blocks, readme);
          await runTemplate(version, nodeBin, tarballs);
          report(`     (README examples and template on Node ${version}: ${((performance.now() - begun) / 1000).toFixed(0)} s)\n`);
        }),
      ),
    );
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
})();

await Promise.all([packageTests, tarballChecks]);

for (const failure of failures) process.stderr.write(`\n--- failed: ${failure}\n`);
process.stdout.write(`test:supported took ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
