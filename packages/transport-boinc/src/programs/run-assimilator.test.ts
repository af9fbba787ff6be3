import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dirHierPath } from '../on-server/dir-hier.js';
import { tsmwProjectLayout } from '../project/tsmw-project-layout.js';
import { runAssimilator, type InboxErrorRecord } from './run-assimilator.js';

let project: string;
let stderr: string;
const layout = () => tsmwProjectLayout(project);
const io = (overrides: Partial<Parameters<typeof runAssimilator>[1]> = {}) => ({
  stderr: (text: string) => void (stderr += text),
  env: {},
  cwd: join(project, 'tmp_host'),
  ...overrides,
});

beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), 'tsmw-assimilator-'));
  stderr = '';
  await writeFile(join(project, 'config.xml'), '<boinc><config></config></boinc>\n');
  await mkdir(join(project, 'tmp_host'));
  await mkdir(layout().batchDirectory('pi_2026'), { recursive: true });
});
afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

async function upload(name: string, data = 'result bytes'): Promise<string> {
  const path = dirHierPath(join(project, 'upload'), name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
  return path;
}

describe('tsmw_assimilator', () => {
  it('moves the output into its batch inbox as <job>.out, found from tmp_HOST', async () => {
    const path = await upload('tsmw_pi_2026_k17_a1_0_r1804289383_0');
    expect(await runAssimilator(['42', path], io())).toBe(0);
    expect(await readFile(join(layout().batchInbox('pi_2026'), 'tsmw_pi_2026_k17_a1.out'), 'utf8')).toBe('result bytes');
    expect(existsSync(path)).toBe(false);
    expect(stderr).toBe('');
  });

  it('finds its earlier work done when BOINC runs it again', async () => {
    const path = await upload('tsmw_pi_2026_k1_a1_0_0');
    expect(await runAssimilator(['7', path], io())).toBe(0);
    expect(await runAssimilator(['7', path], io())).toBe(0);
    expect((await readdir(layout().batchInbox('pi_2026'))).sort()).toEqual(['tsmw_pi_2026_k1_a1.out']);
    await mkdir(layout().batchResultsDirectory('pi_2026'));
    await rm(join(layout().batchInbox('pi_2026'), 'tsmw_pi_2026_k1_a1.out'));
    await writeFile(join(layout().batchResultsDirectory('pi_2026'), 'tsmw_pi_2026_k1_a1.out'), 'taken');
    expect(await runAssimilator(['7', path], io())).toBe(0);
    expect(await readdir(layout().batchInbox('pi_2026'))).toEqual([]);
  });

  it('records a missing or non-regular output as a failed job', async () => {
    expect(await runAssimilator(['8', join(project, 'upload', '1f', 'tsmw_pi_2026_k2_a1_0_0')], io())).toBe(0);
    const missing = JSON.parse(await readFile(join(layout().batchInbox('pi_2026'), 'tsmw_pi_2026_k2_a1.error'), 'utf8')) as InboxErrorRecord;
    expect(missing).toMatchObject({ format: 1, job: 'tsmw_pi_2026_k2_a1', kind: 'missing-output', workunitId: 8 });

    const secret = join(project, 'secret');
    await writeFile(secret, 'not yours');
    const link = join(project, 'upload', 'tsmw_pi_2026_k3_a1_0_0');
    await mkdir(join(project, 'upload'), { recursive: true });
    await symlink(secret, link);
    expect(await runAssimilator(['9', link], io())).toBe(0);
    expect(JSON.parse(await readFile(join(layout().batchInbox('pi_2026'), 'tsmw_pi_2026_k3_a1.error'), 'utf8'))).toMatchObject({ kind: 'missing-output', detail: expect.stringContaining('not a regular file') });
    expect(existsSync(join(layout().batchInbox('pi_2026'), 'tsmw_pi_2026_k3_a1.out'))).toBe(false);
    expect(await readFile(secret, 'utf8')).toBe('not yours');
  });

  it('never writes outside the inbox: names that are not tsmw jobs of a batch here go to unrouted/ under the workunit id', async () => {
    const crafted = [
      await upload('other_app_wu_0_r5_0'),
      await upload('tsmw_no-such-batch_k1_a1_0_0'),
      await upload('tsmw_pi_2026_k1_a1_0_1'), // a second output file tsmw never declares
    ];
    expect(await runAssimilator(['99', ...crafted], io())).toBe(0);
    expect((await readdir(layout().unroutedDirectory)).sort()).toEqual(['wu99_0', 'wu99_1', 'wu99_2']);
    expect(existsSync(layout().batchDirectory('no-such-batch'))).toBe(false);
    expect(await readdir(layout().batchDirectory('pi_2026'))).toEqual([]);
    expect(stderr).toContain('is not the output of a tsmw job');
  });

  it('records a failed job from the error form', async () => {
    expect(await runAssimilator(['--error', '2', 'tsmw_pi_2026_k5_a1', '31', '0'], io())).toBe(0);
    const record = JSON.parse(await readFile(join(layout().batchInbox('pi_2026'), 'tsmw_pi_2026_k5_a1.error'), 'utf8')) as InboxErrorRecord;
    expect(record).toMatchObject({ format: 1, job: 'tsmw_pi_2026_k5_a1', kind: 'job-failed', errorMask: 2, workunitId: 31 });
    expect(Number.isNaN(Date.parse(record.at))).toBe(false);
  });

  it('keeps failures it cannot route, saying why', async () => {
    expect(await runAssimilator(['--error', '8', '../../etc/passwd', '32', '0'], io())).toBe(0);
    expect(await runAssimilator(['--error', '8', '33'], io())).toBe(0); // an older server's form
    expect((await readdir(layout().unroutedDirectory)).sort()).toEqual(['wu32.error', 'wu33.error']);
    expect(stderr).toContain('"../../etc/passwd" is not a tsmw job');
    expect(stderr).toContain('without the workunit name');
  });

  it('exits 1 on a failure BOINC should retry, and 2 on misuse', async () => {
    await writeFile(layout().batchInbox('pi_2026'), 'a file where the inbox should be');
    const path = await upload('tsmw_pi_2026_k1_a1_0_0');
    expect(await runAssimilator(['1', path], io())).toBe(1);
    expect(stderr).toContain('BOINC will run the assimilator again');
    expect(existsSync(path)).toBe(true);
    expect(await runAssimilator([], io())).toBe(2);
    expect(await runAssimilator(['--error'], io())).toBe(2);
    expect(await runAssimilator(['x', path], io())).toBe(2);
    expect(await runAssimilator(['1', path], io({ cwd: tmpdir() }))).toBe(2);
  });

  it('takes the project from --project, TSMW_PROJECT_HOME or its install location', async () => {
    const elsewhere = { cwd: tmpdir() };
    expect(await runAssimilator(['--project', project, '1', await upload('tsmw_pi_2026_k1_a1_0_0')], io(elsewhere))).toBe(0);
    expect(await runAssimilator(['2', await upload('tsmw_pi_2026_k2_a1_0_0')], io({ ...elsewhere, env: { TSMW_PROJECT_HOME: project } }))).toBe(0);
    const programPath = join(layout().programsDirectory, 'tsmw-assimilator.mjs');
    expect(await runAssimilator(['3', await upload('tsmw_pi_2026_k3_a1_0_0')], io({ ...elsewhere, programPath }))).toBe(0);
    expect((await readdir(layout().batchInbox('pi_2026'))).sort()).toEqual(['tsmw_pi_2026_k1_a1.out', 'tsmw_pi_2026_k2_a1.out', 'tsmw_pi_2026_k3_a1.out']);
  });
});
