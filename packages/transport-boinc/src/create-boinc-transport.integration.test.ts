import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMaster, EnvelopeDecodeError, TaskFailedError, type Master } from '@tsmw/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AppVersionNotDeployedError,
  BatchInUseError,
  BoincJobFailedError,
  BoincProjectError,
  createBoincTransport,
  dataFileName,
  readProjectConfig,
  tsmwProjectLayout,
  type BoincOnServerOptions,
} from '@tsmw/transport-boinc';
import { dirHierPath } from '@tsmw/boinc-test-server';
import { createTestProject, startFakeVolunteers, type FakeVolunteers, type TestProject } from '../test/support/test-project.js';
import * as tasks from '../test/fixtures/boinc-tasks.mjs';

const tasksUrl = new URL('../test/fixtures/boinc-tasks.mjs', import.meta.url);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function project(options: Partial<Parameters<typeof createTestProject>[0]> = {}): Promise<TestProject> {
  const created = await createTestProject({ tasks: tasksUrl, ...options });
  cleanups.push(() => created.close());
  return created;
}

async function volunteersFor(testProject: TestProject, options: Parameters<typeof startFakeVolunteers>[1] = {}): Promise<FakeVolunteers> {
  const volunteers = await startFakeVolunteers(testProject, options);
  cleanups.push(() => volunteers.stop());
  return volunteers;
}

async function master(testProject: TestProject, batch: string, options: Partial<BoincOnServerOptions> = {}, jobOptions = {}): Promise<Master> {
  const created = await createMaster({
    transport: createBoincTransport({ app: testProject.app, projectHome: testProject.directory, scanIntervalMs: 500, ...options }, jobOptions),
    tasks: tasksUrl,
    batch,
  });
  cleanups.push(() => created.close({ force: true }));
  return created;
}

function createWorkCalls(testProject: TestProject): string[][] {
  return testProject.project.calls('create_work').filter((call) => call.exitCode !== undefined).map((call) => [...call.argv]);
}

describe('BOINC transport on the server host', () => {
  it('runs tasks as workunits named by batch and key, each created once, and keeps the batch in its store', async () => {
    const testProject = await project();
    await volunteersFor(testProject);
    const pi = await master(testProject, 'squares');
    const outputs = await pi.map(tasks.square, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(outputs).toEqual([1, 4, 9, 16, 25, 36, 49, 64]);
    const names = [...testProject.project.counters().workunitsByName];
    expect(names.map(([name]) => name).sort()).toEqual(Array.from({ length: 8 }, (_, index) => `tsmw_squares_kmap-0-${index}_a1`).sort());
    expect(names.every(([, times]) => times === 1)).toBe(true);
    // One create_work for the whole map, pinned to the app version that carries the module.
    const calls = createWorkCalls(testProject);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual(expect.arrayContaining(['--appname', 'tsmw', '--app_version_num', '100', '--stdin', '--min_quorum', '1', '--target_nresults', '1']));
    const layout = tsmwProjectLayout(testProject.directory);
    expect(existsSync(layout.batchStorePath('squares'))).toBe(true);
    expect((await readdir(layout.batchResultsDirectory('squares'))).length).toBe(8);
    expect(await readdir(layout.batchInbox('squares'))).toEqual([]);
  });

  it('turns job options and hints into create_work arguments, one run per distinct set', async () => {
    const testProject = await project();
    await volunteersFor(testProject);
    const pi = await master(testProject, 'options', {}, { rscFpopsEst: 1e12, delayBound: 86_400, maxErrorResults: 5 });
    const plain = await pi.submit(tasks.square, 3);
    const heavy = await pi.submit(tasks.square, 4, { hints: { rsc_fpops_est: 5e13, priority: 7 } });
    const soon = await pi.submit(tasks.square, 5, { timeoutMs: 3_600_000 });
    expect([await plain.result, await heavy.result, await soon.result]).toEqual([9, 16, 25]);
    const calls = createWorkCalls(testProject);
    expect(calls).toHaveLength(3);
    const valueOf = (call: string[], option: string): string | undefined => call[call.indexOf(option) + 1];
    const byPriority = (priority: string | undefined) => calls.find((call) => valueOf(call, '--priority') === priority)!;
    expect(valueOf(byPriority('7'), '--rsc_fpops_est')).toBe('50000000000000');
    const others = calls.filter((call) => !call.includes('--priority'));
    expect(others.map((call) => valueOf(call, '--rsc_fpops_est'))).toEqual(['1000000000000', '1000000000000']);
    expect(others.every((call) => valueOf(call, '--max_error_results') === '5')).toBe(true);
    // The task with a deadline an hour away gets a delay bound of at most an hour.
    const bounds = others.map((call) => Number(valueOf(call, '--delay_bound'))).sort((a, b) => a - b);
    expect(bounds[0]).toBeLessThanOrEqual(3600);
    expect(bounds[0]).toBeGreaterThan(3000);
    expect(bounds[1]).toBe(86_400);
    const workunit = testProject.project.workunit('tsmw_options_ksubmit-2_a1')!;
    expect(workunit.record).toMatchObject({ rscFpopsEst: 5e13, priority: 7, maxErrorResults: 5, appVersionNum: 100 });
  });

  it('refuses hints that are not BOINC job options, naming them', async () => {
    const testProject = await project();
    const pi = await master(testProject, 'bad-hints');
    const handle = await pi.submit(tasks.square, 3, { hints: { rscFpopsEstimate: 1 } });
    await expect(handle.result).rejects.toThrow(/"rscFpopsEstimate" is not a BOINC job option/);
    const negative = await pi.submit(tasks.square, 3, { hints: { minQuorum: 0 } });
    await expect(negative.result).rejects.toThrow(/minQuorum must be a whole number >= 1, not 0/);
    expect(createWorkCalls(testProject)).toEqual([]);
  });

  it('rebuilds a task that threw as TaskFailedError', async () => {
    const testProject = await project();
    await volunteersFor(testProject);
    const pi = await master(testProject, 'throws');
    const error = await (await pi.submit(tasks.fail, 'no such prime')).result.catch((caught: unknown) => caught);
    expect(TaskFailedError.isInstance(error)).toBe(true);
    expect((error as TaskFailedError).cause).toMatchObject({ name: 'RangeError', message: 'no such prime' });
  });

  it('says in words why BOINC gave up on a job', async () => {
    const testProject = await project();
    await volunteersFor(testProject, { outcome: () => 'client-error' });
    const pi = await master(testProject, 'crashing');
    const error = await (await pi.submit(tasks.square, 2)).result.catch((caught: unknown) => caught);
    expect(BoincJobFailedError.isInstance(error)).toBe(true);
    const failed = error as BoincJobFailedError;
    expect(failed.jobName).toBe('tsmw_crashing_ksubmit-1_a1');
    expect(failed.errorMask).toBeGreaterThan(0);
    expect(failed.message).toMatch(/BOINC job tsmw_crashing_ksubmit-1_a1 failed \(error mask \d+\): /);
    expect(failed.message).toMatch(/too many errors|no valid result/);
  });

  it('hands a result that does not decode to the master as an EnvelopeDecodeError', async () => {
    const testProject = await project();
    const pi = await master(testProject, 'garbage');
    const handle = await pi.submit(tasks.square, 2);
    await testProject.project.waitFor(() => testProject.project.workunit('tsmw_garbage_ksubmit-1_a1'), { what: 'the workunit' });
    testProject.project.injectResultFault('tsmw_garbage_ksubmit-1_a1', { outcome: 'success', outputs: ['<html><body>500 Internal Server Error</body></html>'] });
    const error = await handle.result.catch((caught: unknown) => caught);
    expect(EnvelopeDecodeError.isInstance(error)).toBe(true);
  });

  it('stages a data file once per batch, named by its content, and tasks read it', async () => {
    const testProject = await project();
    await volunteersFor(testProject);
    const pi = await master(testProject, 'files');
    const shared = new TextEncoder().encode('the same data for everyone');
    const first = await pi.submit(tasks.readData, 'data.txt', { files: { 'data.txt': shared } });
    const second = await pi.submit(tasks.readData, 'data.txt', { files: { 'data.txt': shared } });
    const path = join(testProject.directory, 'own.txt');
    await writeFile(path, 'from a path');
    const third = await pi.submit(tasks.readData, 'other.txt', { files: { 'other.txt': path } });
    expect([await first.result, await second.result, await third.result]).toEqual(['the same data for everyone', 'the same data for everyone', 'from a path']);
    const config = await readProjectConfig(testProject.directory);
    const { createHash } = await import('node:crypto');
    const name = dataFileName('files', createHash('sha256').update(shared).digest('hex'));
    expect(await readFile(dirHierPath(name, config.downloadDirectory, config.fanout), 'utf8')).toBe('the same data for everyone');
    const staged = testProject.project.workunits().flatMap((workunit) => workunit.record.inputFiles.map((file) => file.name));
    expect(staged.filter((file) => file === name)).toHaveLength(2);
  });

  it('moves what is not a job of this batch out of the inbox, and goes on', async () => {
    const testProject = await project();
    await volunteersFor(testProject);
    const warnings: string[] = [];
    const pi = await master(testProject, 'stray', { onWarning: (message) => warnings.push(message) });
    const inbox = tsmwProjectLayout(testProject.directory).batchInbox('stray');
    await writeFile(join(inbox, 'tsmw_other_k1_a1.out'), 'not ours');
    await writeFile(join(inbox, 'tsmw_stray_knever-submitted_a1.out'), 'not ours either');
    expect(await (await pi.submit(tasks.square, 9)).result).toBe(81);
    expect(warnings.filter((warning) => warning.includes('is not a job of this batch'))).toHaveLength(2);
    expect((await readdir(join(tsmwProjectLayout(testProject.directory).batchDirectory('stray'), 'rejected'))).sort()).toEqual(['tsmw_other_k1_a1.out', 'tsmw_stray_knever-submitted_a1.out']);
  });

  it('drops a cancelled task, and aborts its job where it can', async () => {
    const testProject = await project();
    const volunteers = await volunteersFor(testProject, { only: () => false });
    const warnings: string[] = [];
    const aborted: string[][] = [];
    const pi = await master(testProject, 'cancel', {
      onWarning: (message) => warnings.push(message),
      abortJobs: async (names) => {
        aborted.push([...names]);
        return names;
      },
    });
    const handle = await pi.submit(tasks.square, 2);
    await testProject.project.waitFor(() => testProject.project.workunit('tsmw_cancel_ksubmit-1_a1'), { what: 'the workunit' });
    handle.cancel();
    await expect(handle.result).rejects.toThrow(/cancel/i);
    await expect.poll(() => aborted, { timeout: 60_000 }).toEqual([['tsmw_cancel_ksubmit-1_a1']]);
    expect(volunteers.ran.size).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('says once that cancelled jobs go on when it cannot abort them', async () => {
    const testProject = await project();
    await volunteersFor(testProject, { only: () => false });
    const warnings: string[] = [];
    const pi = await master(testProject, 'no-abort', { onWarning: (message) => warnings.push(message) });
    const handles = [await pi.submit(tasks.square, 2), await pi.submit(tasks.square, 3)];
    await testProject.project.waitFor(() => testProject.project.workunit('tsmw_no-abort_ksubmit-2_a1'), { what: 'the workunits' });
    for (const handle of handles) handle.cancel();
    await expect.poll(() => warnings.length, { timeout: 60_000 }).toBe(1);
    expect(warnings[0]).toMatch(/their BOINC jobs go on: give the transport abortJobs/);
  });
});

describe('starting the BOINC transport', () => {
  it('refuses a task module no app version carries, saying what to run', async () => {
    const testProject = await project({ deploy: false });
    const error = await master(testProject, 'undeployed').catch((caught: unknown) => caught);
    expect(AppVersionNotDeployedError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`tsmw-setup deploy --project ${testProject.directory} --app tsmw --tasks `);
    expect((error as Error).message).toContain('boinc-tasks.mjs');
  });

  it('refuses a project whose daemons would never hand results over', async () => {
    const testProject = await project({ withoutAssimilator: true });
    const error = await master(testProject, 'no-assimilator').catch((caught: unknown) => caught);
    expect(BoincProjectError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/runs no tsmw assimilator for app tsmw.*script_assimilator --app tsmw --script tsmw_assimilator/s);
    await expect(master(testProject, 'unchecked', { checkDaemons: false })).resolves.toBeDefined();
  });

  it('refuses a directory that is not a BOINC project', async () => {
    const testProject = await project();
    await rm(join(testProject.directory, 'config.xml'));
    const error = await master(testProject, 'nowhere').catch((caught: unknown) => caught);
    expect(BoincProjectError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/config\.xml: it does not exist/);
  });

  it('lets one master hold a batch at a time', async () => {
    const testProject = await project();
    const first = await master(testProject, 'held');
    const error = await master(testProject, 'held').catch((caught: unknown) => caught);
    expect(BatchInUseError.isInstance(error)).toBe(true);
    await first.close();
    await expect(master(testProject, 'held')).resolves.toBeDefined();
  });
});
