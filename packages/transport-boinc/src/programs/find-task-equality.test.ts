import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeResultEnvelope, encodeTaskEnvelope, type ResultEnvelope } from '@tsmw/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { envelopeFileName, formatJobName } from '../job-name.js';
import { dirHierPath } from '../on-server/dir-hier.js';
import { writeAppManifest } from '../project/app-manifest.js';
import { bundleTaskModule, type TaskModuleBundle } from '../project/bundle-task-module.js';
import { taskModuleFileName, tsmwProjectLayout } from '../project/tsmw-project-layout.js';
import { findTaskEquality } from './find-task-equality.js';
import { runValidatorCompare } from './run-validator.js';

// A project as tsmw-setup deploys one (config.xml, app manifest, the bundle in its app version
// directory), a job's staged input envelope, and two results' outputs in upload/.
let project: string;
let bundle: TaskModuleBundle;
let stderr: string;
const fanout = 8;
const io = (): Parameters<typeof runValidatorCompare>[1] => ({ stderr: (text: string) => void (stderr += text), env: {}, cwd: join(project, 'tmp_host') }); // BOINC runs validators' scripts from <project>/tmp_<host>
const platform = 'x86_64-pc-linux-gnu';

beforeAll(async () => {
  bundle = await bundleTaskModule(new URL('../../test/fixtures/tolerant-tasks.mjs', import.meta.url));
  project = await mkdtemp(join(tmpdir(), 'tsmw-compare-'));
  await writeFile(join(project, 'config.xml'), `<boinc><config><uldl_dir_fanout>${fanout}</uldl_dir_fanout></config></boinc>\n`);
  await writeAppManifest(project, {
    format: 1,
    app: 'tsmw',
    versions: [{ versionNum: 100, moduleHash: bundle.hash, taskNames: ['sum', 'picky', 'exact'], platforms: [platform], node: { mode: 'host' }, runtimeVersion: '0.1.0', createdAt: '2026-11-26T00:00:00.000Z' }],
  });
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});
beforeEach(() => {
  stderr = '';
});

async function deployBundle(): Promise<void> {
  const directory = tsmwProjectLayout(project).appVersionDirectory('tsmw', 100, platform);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, taskModuleFileName(bundle.hash)), bundle.code);
}

let jobs = 0;
/** Stages a job of `taskName` and writes two results' outputs; returns their paths. */
async function job(taskName: string, outputs: [unknown, unknown], moduleHash = bundle.hash): Promise<[string, string]> {
  const jobName = formatJobName('b', `k${jobs++}`, 1);
  const envelopePath = dirHierPath(join(project, 'download'), envelopeFileName(jobName), fanout);
  await mkdir(join(envelopePath, '..'), { recursive: true });
  await writeFile(envelopePath, encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: jobName, taskName, moduleHash, attempt: 1, input: null }));
  const paths: string[] = [];
  for (const [index, output] of outputs.entries()) {
    const path = dirHierPath(join(project, 'upload'), `${jobName}_${index}_0`, fanout);
    await mkdir(join(path, '..'), { recursive: true });
    const envelope: ResultEnvelope = { kind: 'tsmw-result', version: 1, taskId: jobName, attempt: 1, ok: true, output, timing: { startedAt: index, wallMs: 10 + index, cpuMs: 5 } };
    await writeFile(path, encodeResultEnvelope(envelope));
    paths.push(path);
  }
  return [paths[0]!, paths[1]!];
}

describe('tsmw_compare with the task module of the job', () => {
  it('says transient, never guesses, while the deployed module cannot be found', async () => {
    const [left, right] = await job('sum', [0.1 + 0.2, 0.3]);
    expect(await runValidatorCompare([left, right], io()), stderr).toBe(3);
    expect(stderr).toContain(`no deployed app version carries task module ${bundle.hash.slice(0, 12)}`);
    await deployBundle();
  });

  it("uses the task's equals: outputs that differ in the last bits match, others do not", async () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(await runValidatorCompare(await job('sum', [0.1 + 0.2, 0.3]), io())).toBe(0);
    expect(await runValidatorCompare(await job('sum', [0.3, 0.31]), io())).toBe(1);
    expect(stderr).toContain('by the equals of task sum');
    const equality = await findTaskEquality((await job('sum', [1, 1]))[0], project);
    expect(equality).toMatchObject({ kind: 'task', taskName: 'sum' });
  });

  it('compares structurally when the task defines no equals', async () => {
    expect(await runValidatorCompare(await job('exact', [0.1 + 0.2, 0.3]), io())).toBe(1);
    expect(await runValidatorCompare(await job('exact', [{ a: [1, 2] }, { a: [1, 2] }]), io())).toBe(0);
    expect(await findTaskEquality((await job('exact', [1, 1]))[0], project)).toEqual({ kind: 'structural', reason: 'task exact defines no equals' });
  });

  it('makes an equals that throws a mismatch, saying why', async () => {
    expect(await runValidatorCompare(await job('picky', ['x', 'x']), io())).toBe(1);
    expect(stderr).toContain('the equals of task picky threw');
    expect(stderr).toContain('picky compares numbers only');
  });

  it('compares structurally what is not a tsmw job, or whose input is gone', async () => {
    expect(await findTaskEquality(join(project, 'upload', 'other_app_wu_0_0'), project)).toMatchObject({ kind: 'structural' });
    const [left] = await job('sum', [1, 1]);
    const jobName = left.split('/').at(-1)!.replace(/_0_0$/, '');
    await rm(dirHierPath(join(project, 'download'), envelopeFileName(jobName), fanout));
    expect(await findTaskEquality(left, project)).toEqual({ kind: 'structural', reason: `the input of job ${jobName} is no longer staged, so its task is unknown` });
  });

  it('never loads a file whose bytes are not the module the job names', async () => {
    // A version the manifest says carries module `forged`, whose file holds other bytes.
    const forged = 'f'.repeat(64);
    const version = { versionNum: 101, moduleHash: forged, taskNames: ['sum'], platforms: [platform], node: { mode: 'host' as const }, runtimeVersion: '0.1.0', createdAt: '2026-11-26T00:00:00.000Z' };
    await writeAppManifest(project, { format: 1, app: 'tsmw', versions: [{ ...version, versionNum: 100, moduleHash: bundle.hash }, version] });
    const directory = tsmwProjectLayout(project).appVersionDirectory('tsmw', 101, platform);
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, taskModuleFileName(forged)), 'globalThis.forgedModuleRan = true;\n');
    const [left, right] = await job('sum', [1, 1], forged);
    expect(await runValidatorCompare([left, right], io())).toBe(3);
    expect(stderr).toContain(`no deployed app version carries task module ${forged.slice(0, 12)}`);
    expect((globalThis as { forgedModuleRan?: boolean }).forgedModuleRan).toBeUndefined();
  });

  it('finds the project from --project, and refuses one that is not a project', async () => {
    const [left, right] = await job('sum', [0.1 + 0.2, 0.3]);
    expect(await runValidatorCompare(['--project', project, left, right], { stderr: (text) => void (stderr += text), env: {}, cwd: tmpdir() })).toBe(0);
    expect(await runValidatorCompare(['--project', join(project, 'nowhere'), left, right], io())).toBe(3);
    expect(stderr).toContain('is not a BOINC project directory');
  });
});
