#!/usr/bin/env node
// Enforces tsmw's one-way layers: which workspace may import which, and no deep imports of
// another package's internals. Reads every source file's import specifiers and every
// package.json's dependencies. Exits 1 with one line per violation.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const allowed = {
  '@tsmw/core': [],
  '@tsmw/transport-local': ['@tsmw/core'],
  '@tsmw/transport-boinc': ['@tsmw/core'],
  '@tsmw/client-runtime': ['@tsmw/core'],
  '@tsmw/setup-cli': ['@tsmw/core', '@tsmw/transport-boinc', '@tsmw/client-runtime'],
  '@tsmw/examples': ['@tsmw/core', '@tsmw/transport-local', '@tsmw/transport-boinc', '@tsmw/client-runtime'],
  // Test tooling: may use the public entry points of the product packages.
  '@tsmw/boinc-test-server': ['@tsmw/core', '@tsmw/client-runtime'],
};
// Test tooling a package may use in its tests only: a devDependency, imported from test files
// (`*.test.ts`, `test/`), never from what ships.
const testOnly = {
  '@tsmw/transport-boinc': ['@tsmw/boinc-test-server', '@tsmw/client-runtime'],
  '@tsmw/setup-cli': ['@tsmw/boinc-test-server'],
  '@tsmw/examples': ['@tsmw/boinc-test-server', '@tsmw/setup-cli'],
};
const isTestFile = (file) => /\.(test|e2e\.test|integration\.test)\.[cm]?[jt]sx?$/.test(file) || /[\\/]test[\\/]/.test(relative(root, file));
// Public subpaths: anything else under a package name is a deep import.
const publicEntryPoints = new Set([
  '@tsmw/core',
  '@tsmw/core/testing',
  '@tsmw/core/testing/conformance-tasks',
  '@tsmw/core/testing/file-transport',
  '@tsmw/boinc-test-server',
  '@tsmw/transport-local',
  '@tsmw/transport-boinc',
  '@tsmw/client-runtime',
  '@tsmw/setup-cli',
  '@tsmw/examples/monte-pi/tasks',
]);

const violations = [];
const workspaces = ['packages', 'apps', 'tools'].flatMap((folder) =>
  existsSync(join(root, folder)) ? readdirSync(join(root, folder)).map((name) => join(root, folder, name)) : [],
);

function* sourceFiles(directory) {
  if (!existsSync(directory)) return;
  for (const name of readdirSync(directory)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(directory, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(c|m)?[jt]sx?$/.test(name)) yield path;
  }
}

const specifierPattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

for (const workspace of workspaces) {
  const manifestPath = join(workspace, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const name = manifest.name;
  if (!(name in allowed)) {
    violations.push(`${relative(root, manifestPath)}: workspace ${name} is not in scripts/check-layers.mjs; add its allowed imports there`);
    continue;
  }
  const mayUse = new Set(allowed[name]);
  const mayTestWith = new Set(testOnly[name] ?? []);
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    for (const dependency of Object.keys(manifest[field] ?? {})) {
      if (!dependency.startsWith('@tsmw/') || dependency === name || mayUse.has(dependency)) continue;
      if (field === 'devDependencies' && mayTestWith.has(dependency)) continue;
      violations.push(`${relative(root, manifestPath)}: ${name} must not depend on ${dependency} (${field}${mayTestWith.has(dependency) ? ': test tooling belongs in devDependencies' : ''})`);
    }
  }
  for (const folder of ['src', 'test']) {
    for (const file of sourceFiles(join(workspace, folder))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(specifierPattern)) {
        const specifier = match[1] ?? match[2] ?? match[3];
        if (specifier?.startsWith('.') && relative(workspace, resolve(dirname(file), specifier)).startsWith('..')) {
          violations.push(`${relative(root, file)}: ${specifier} reaches into another workspace; import its package instead`);
          continue;
        }
        if (!specifier?.startsWith('@tsmw/')) continue;
        const packageName = specifier.split('/').slice(0, 2).join('/');
        if (packageName !== name && mayTestWith.has(packageName)) {
          if (!isTestFile(file)) violations.push(`${relative(root, file)}: ${packageName} is test tooling; only tests may import it`);
          continue;
        }
        if (packageName !== name && !mayUse.has(packageName)) {
          violations.push(`${relative(root, file)}: ${name} must not import ${packageName}`);
        } else if (!publicEntryPoints.has(specifier)) {
          violations.push(`${relative(root, file)}: ${specifier} is a deep import; use a public entry point`);
        }
      }
    }
  }
}

if (violations.length > 0) {
  for (const violation of violations) console.error(violation);
  console.error(`check-layers: ${violations.length} violation(s) of the one-way layers`);
  process.exit(1);
}
console.log(`check-layers: ${workspaces.length} workspaces keep to their layers`);
