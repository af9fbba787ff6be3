#!/usr/bin/env node
// `npm run test:supported`: what CI runs beyond `npm test`, so that every supported Node is
// tested and what ships is what is tested.
//   1. Installs the other supported Nodes from the npm registry (node-<platform>-<arch>@<version>)
//      into a cache directory, once, and runs every published package's tests on each.
//   2. Packs every published package (npm pack), checks each tarball, installs the tarballs into
//      a fresh project outside the workspace, and runs the README's "In code" and TypeScript
//      examples, exactly as the README writes them, on this machine's Node and on each other one.
// Ends with one line "N passed, N failed"; exits 1 if anything failed.
// Options: --skip-package-tests (only the tarball checks), --node 22.23.3 (only that extra Node).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

function check(name, ok, detail = '') {
  if (ok) passed += 1;
  else {
    failed += 1;
    failures.push(`${name}${detail ? `\n${detail}` : ''}`);
  }
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}\n`);
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
  return run('bash', ['-euo', 'pipefail', '-c', line], { cwd, env: withNode(nodeBin) });
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

async function runPackageTests(version, nodeBin) {
  for (const { directory, manifest } of publishedPackages()) {
    if (manifest.scripts?.test === undefined) continue;
    const report = join(directory, '.vitest', 'report.json');
    await rm(report, { force: true });
    const started = performance.now();
    const result = await run('npm', ['run', 'test', '--silent'], { cwd: directory, env: { ...withNode(nodeBin), CI: process.env.CI ?? '' } });
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    if (!existsSync(report)) {
      check(`${manifest.name} tests on Node ${version} (${seconds} s)`, false, describe(result));
      continue;
    }
    const data = JSON.parse(readFileSync(report, 'utf8'));
    passed += data.numPassedTests ?? 0;
    failed += data.numFailedTests ?? 0;
    const ok = result.code === 0 && (data.numFailedTests ?? 0) === 0;
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${manifest.name} on Node ${version}: ${data.numPassedTests} passed, ${data.numFailedTests} failed (${seconds} s)\n`);
    if (!ok) failures.push(`${manifest.name} on Node ${version}\n${describe(result)}`);
  }
}

// ---- 2. the README's examples from packed tarballs -----------------------------------------

/** The README's code blocks marked `<!-- readme-test: scenario/name -->`, by "scenario/name". */
function readmeBlocks() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = new Map();
  for (const match of readme.matchAll(/<!-- readme-test: ([\w.-]+\/[\w.-]+) -->\n```[\w]*\n([\s\S]*?)```/g)) blocks.set(match[1], match[2]);
  return { readme, blocks };
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
    const native = await shell(`node --input-type=module -e "import { isNativeAccelerationEnabled } from 'msgpackr'; console.log(isNativeAccelerationEnabled)"`, { cwd: project, nodeBin });
    check(`Node ${version}: msgpackr's native decoder loads without msgpackr-extract's install script`, native.stdout.trim() === 'true', describe(native));

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

// ---- main ------------------------------------------------------------------------------------

const started = performance.now();
const versions = onlyNode === undefined ? otherNodes : [onlyNode];
const nodeBins = new Map();
for (const version of versions) nodeBins.set(version, await installNode(version));

const build = await run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
if (!check('build every package', build.code === 0, describe(build))) process.exit(1);

if (!skipPackageTests) for (const version of versions) await runPackageTests(version, nodeBins.get(version));

const workspace = await mkdtemp(join(tmpdir(), 'tsmw-tarballs-'));
try {
  const tarballs = await packTarballs(workspace);
  const { readme, blocks } = readmeBlocks();
  for (const name of ['in-code/setup', 'in-code/tasks.js', 'in-code/master.js', 'in-code/run', 'in-code/output', 'typescript/setup', 'typescript/tsconfig.json', 'typescript/tasks.ts', 'typescript/master.ts', 'typescript/run']) {
    if (!blocks.has(name)) throw new Error(`README.md has no block marked <!-- readme-test: ${name} -->`);
  }
  const all = [[process.versions.node, process.execPath], ...versions.map((version) => [version, nodeBins.get(version)])];
  for (const [version, nodeBin] of all) {
    const begun = performance.now();
    await runReadmeExamples(version, nodeBin, tarballs, blocks, readme);
    process.stdout.write(`     (README examples on Node ${version}: ${((performance.now() - begun) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  await rm(workspace, { recursive: true, force: true });
}

for (const failure of failures) process.stderr.write(`\n--- failed: ${failure}\n`);
process.stdout.write(`test:supported took ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
