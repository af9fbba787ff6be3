import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFixtureProject, hashTree, runCli, tasksFixture, type FixtureProject } from './fixture-project.js';
import { cp } from 'node:fs/promises';

interface Finding {
  severity: string;
  code: string;
  app?: string;
  message: string;
}
interface Report {
  ok: boolean;
  findings: Finding[];
  apps: { app: string; daemons: { role: string; running: boolean | undefined }[]; versions: { version: string; platforms: string[]; inManifest: boolean }[] }[];
}

const here = hostname().split('.')[0]!;
let template: FixtureProject;
let project: { home: string; environment: NodeJS.ProcessEnv };
let copies = 0;

/** A project set up once by init (Linux, host Node), copied fresh for each case. */
beforeAll(async () => {
  template = await createFixtureProject();
  const result = await runCli(['init', '-p', template.home, '-a', 'pi', '-t', tasksFixture('square.mjs'), '--platforms', 'x86_64-pc-linux-gnu', '--node', 'host'], template.environment);
  expect(result.code).toBe(0);
});
afterAll(async () => {
  await template.cleanup();
});
beforeEach(async () => {
  copies += 1;
  const home = join(template.directory, `copy-${copies}`);
  await cp(template.home, home, { recursive: true });
  project = { home, environment: template.environment };
});

async function status(...extra: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const result = await runCli(['status', '-p', project.home, '--json', ...extra], project.environment);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

/** Pid files as BOINC's bin/start writes them, naming a live process (this test's) for each daemon. */
async function markDaemonsRunning(): Promise<void> {
  const directory = join(project.home, `pid_${here}`);
  await mkdir(directory, { recursive: true });
  for (const name of ['feeder.pid', 'transitioner.pid', 'file_deleter.pid', 'tsmw_pi_validator.pid', 'tsmw_pi_assimilator.pid']) await writeFile(join(directory, name), `${process.pid}\n`);
}

function codes(report: Report): string[] {
  return report.findings.filter((finding) => finding.severity === 'error').map((finding) => finding.code);
}

describe('tsmw-setup status', () => {
  it('finds nothing wrong in a set-up project whose daemons run (Linux only: the other platforms are warnings), and changes nothing', async () => {
    await markDaemonsRunning();
    const before = await hashTree(project.home);
    const { code, report } = await status();
    expect(codes(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
    expect(report.findings.filter((finding) => finding.code === 'no-app-version').map((finding) => finding.message)).toHaveLength(3);
    expect(report.apps[0]!.daemons.map((daemon) => [daemon.role, daemon.running])).toEqual([
      ['feeder', true],
      ['transitioner', true],
      ['validator', true],
      ['assimilator', true],
    ]);
    expect(report.apps[0]!.versions).toEqual([expect.objectContaining({ version: '1.00', platforms: ['x86_64-pc-linux-gnu'], inManifest: true })]);
    expect(await hashTree(project.home)).toBe(before);
    const text = await runCli(['status', '-p', project.home], project.environment);
    expect(text.stdout).toContain('ok: results can arrive');
  });

  it('names daemons that are not running', async () => {
    const { code, report } = await status();
    expect(code).toBe(1);
    expect(report.findings.filter((finding) => finding.code === 'daemon-not-running').map((finding) => finding.message.split(' ')[0])).toEqual(['feeder', 'transitioner', 'sample_trivial_validator', 'script_assimilator']);
  });

  it('names a missing validator and a missing assimilator', async () => {
    await markDaemonsRunning();
    const config = await readFile(join(project.home, 'config.xml'), 'utf8');
    await writeFile(join(project.home, 'config.xml'), config.replace(/\s*<daemon>\s*<cmd>sample_trivial_validator[\s\S]*?<\/daemon>\s*<daemon>\s*<cmd>script_assimilator[\s\S]*?<\/daemon>/, ''));
    const { report } = await status();
    expect(codes(report)).toEqual(['no-validator', 'no-assimilator']);
    expect(report.findings.find((finding) => finding.code === 'no-validator')!.message).toMatch(/results are never validated, so never assimilated/);
  });

  it('names a disabled daemon', async () => {
    await markDaemonsRunning();
    const config = await readFile(join(project.home, 'config.xml'), 'utf8');
    await writeFile(join(project.home, 'config.xml'), config.replace('<pid_file>tsmw_pi_assimilator.pid</pid_file>', '<pid_file>tsmw_pi_assimilator.pid</pid_file><disabled>1</disabled>'));
    const { report } = await status();
    expect(codes(report)).toEqual(['daemon-disabled']);
  });

  it("names a <host> that is not this host's short name", async () => {
    await markDaemonsRunning();
    const config = await readFile(join(project.home, 'config.xml'), 'utf8');
    await writeFile(join(project.home, 'config.xml'), config.replace(`<host>${here}</host>`, '<host>elsewhere</host>'));
    const { report } = await status();
    expect(codes(report)).toEqual(['host-mismatch']);
    expect(report.findings[0]!.message).toContain(`config.xml's <host> is "elsewhere" but this host is "${here}"`);
  });

  it('names a platform without an app version, and a version directory without version.xml', async () => {
    await markDaemonsRunning();
    const directory = join(project.home, 'apps', 'pi', '1.00', 'x86_64-pc-linux-gnu');
    await rm(join(directory, 'version.xml'));
    const { report } = await status();
    expect(codes(report)).toEqual(['app-version-incomplete', 'app-version-incomplete']);
    expect(report.findings.filter((finding) => finding.code === 'no-app-version').map((finding) => finding.message)).toContainEqual(expect.stringContaining('no app version of pi for x86_64-pc-linux-gnu'));
  });

  it('names an app version whose task module hash is not in the manifest', async () => {
    await markDaemonsRunning();
    const directory = join(project.home, 'apps', 'pi', '1.00', 'x86_64-pc-linux-gnu');
    const tasks = (await readdir(directory)).find((name) => name.startsWith('tsmw_tasks_'))!;
    await writeFile(join(directory, tasks), `${await readFile(join(directory, tasks), 'utf8')}\n// edited by hand\n`);
    const { report } = await status();
    expect(codes(report)).toEqual(['unknown-module-hash']);
    expect(report.findings.find((finding) => finding.code === 'unknown-module-hash')!.message).toMatch(/which tsmw\/apps\/pi\.json does not list for version 1\.00/);
  });

  it('names results waiting in a batch inbox', async () => {
    await markDaemonsRunning();
    await mkdir(join(project.home, 'tsmw', 'batches', 'nightly', 'inbox'), { recursive: true });
    await writeFile(join(project.home, 'tsmw', 'batches', 'nightly', 'inbox', 'pi_nightly_1__out'), 'x');
    await writeFile(join(project.home, 'tsmw', 'batches', 'nightly', 'inbox', 'pi_nightly_2__out'), 'y');
    const { code, report } = await status();
    expect(code).toBe(0);
    expect(report.findings.find((finding) => finding.code === 'results-waiting')!.message).toBe('2 results wait in tsmw/batches/nightly/inbox: run the master of batch nightly to collect them');
  });

  it('names missing tsmw programs, templates, the app missing from project.xml, and commands left pending', async () => {
    await markDaemonsRunning();
    await chmod(join(project.home, 'bin', 'tsmw_assimilator'), 0o644);
    await rm(join(project.home, 'templates', 'pi_out'));
    const projectXml = await readFile(join(project.home, 'project.xml'), 'utf8');
    await writeFile(join(project.home, 'project.xml'), projectXml.replace(/\s*<app>\s*<name>pi<\/name>[\s\S]*?<\/app>/, ''));
    await writeFile(join(project.home, 'tsmw', 'setup', 'pi.pending.json'), '{"pending":["update_versions"]}\n');
    const { report } = await status('--app', 'pi');
    expect(codes(report).sort()).toEqual(['app-not-in-project-xml', 'commands-pending', 'program-missing', 'template-missing']);
  });

  it('says when an app was never set up, and refuses a directory that is no project', async () => {
    const { code, report } = await status('--app', 'other');
    expect(code).toBe(1);
    expect(codes(report)).toContain('not-set-up');
    const bad = await runCli(['status', '-p', join(project.home, 'bin')], project.environment);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a BOINC project directory: it has no config\.xml\n$/);
  });
});
