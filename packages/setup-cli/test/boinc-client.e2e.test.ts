// End to end: `tsmw-setup init` on the fake BOINC project (its own bin/xadd, update_versions,
// stop and start, its daemons), then a master with the BOINC transport submits a task and a REAL
// BOINC client runs the Linux app version init made, with the Node.js 24 binary init shipped
// (not this machine's Node 20), through the fake project's scheduler; the project's validator
// and script_assimilator run tsmw's installed assimilator, which delivers the result to the batch
// inbox, where the transport hands it to the master.
//
// The fake project cannot sign app versions, so the client runs the app version as an anonymous
// platform: app_info.xml is made from init's version.xml (same files, main program, open names,
// api_version), the files copied from apps/APP/1.00/x86_64-pc-linux-gnu as init wrote them.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBoincClientHarness, createFakeBoincProject, findBoincClient, readAppVersionDirectory, type BoincClientHarness, type FakeBoincProject } from '@tsmw/boinc-test-server';
import { createMaster, type Master } from '@tsmw/core';
import { createBoincTransport } from '@tsmw/transport-boinc';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tasksFixture } from './fixture-project.js';
import { sharedNodeCache } from './shared-cache.js';

const boincPath = findBoincClient();
const inCi = process.env['CI'] === 'true';
const debug = process.env['TSMW_DEBUG_BOINC'] === '1' ? (line: string) => console.log(line) : undefined;
const skipReason = 'the BOINC client is not installed (apt-get install -y --no-install-recommends boinc-client)';
if (boincPath === null && !inCi) console.warn(`skipping the tsmw-setup e2e test: ${skipReason}`);
const run = promisify(execFile);
const app = 'tsmwsq';
const platform = 'x86_64-pc-linux-gnu';

describe.skipIf(boincPath === null && !inCi)('tsmw-setup init, then a real BOINC client', () => {
  let directory = '';
  let project: FakeBoincProject | undefined;
  let client: BoincClientHarness | undefined;
  let master: Master | undefined;

  afterAll(async () => {
    await master?.close({ force: true }).catch(() => undefined);
    await client?.close();
    await project?.close();
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  it('runs a task to the right result with the bundled Node.js, delivered by the installed assimilator', async () => {
    expect(boincPath, skipReason).not.toBeNull();
    directory = await mkdtemp(join(tmpdir(), 'tsmw-setup-e2e-'));
    project = await createFakeBoincProject({ directory: join(directory, 'project'), nextRpcDelaySeconds: 3, daemonIntervalMs: 200, assimilatorRestartDelayMs: 500, ...(debug ? { log: debug } : {}) });
    const fake = project;

    const init = await runCli(['init', '-p', fake.directory, '-a', app, '-t', tasksFixture('e2e-tasks.mjs'), '--platforms', platform, '--cache', sharedNodeCache(), '--json']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    const report = JSON.parse(init.stdout) as { commandsRun: string[]; appVersion: { version: string; node: string } };
    expect(report.commandsRun).toEqual(['bin/xadd', 'bin/update_versions --noconfirm', 'bin/stop', 'bin/start']);
    expect(report.appVersion).toMatchObject({ version: '1.00', node: 'bundled 24.21.0' });
    expect(fake.calls('update_versions').filter((call) => call.exitCode === 0)).toHaveLength(1);
    // update_versions served the Node binary compressed, as the client downloads it (<gzip/>).
    expect((await stat(join(fake.directory, 'download', 'tsmw_node-v24.21.0-linux-x64.gz'))).size).toBeGreaterThan(1_000_000);

    // The app version as init wrote it: version.xml -> the client's app_info.xml.
    const appVersion = await readAppVersionDirectory(join(fake.directory, 'apps', app, '1.00', platform));
    expect(appVersion.apiVersion).toBe('7.20.0');
    const nodeFile = appVersion.appFiles.find((file) => file.name.startsWith('tsmw_node-'))!;
    expect((await run(nodeFile.path, ['--version'])).stdout.trim()).toBe('v24.21.0');
    expect(process.version).not.toBe('v24.21.0');

    const transport = createBoincTransport({ app, projectHome: fake.directory, scanIntervalMs: 500 });
    master = await createMaster({ transport, tasks: tasksFixture('e2e-tasks.mjs'), batch: 'e2e' });
    const tasks = (await import(tasksFixture('e2e-tasks.mjs'))) as Record<'square' | 'nodeVersion', Parameters<Master['submit']>[0]>;
    const squared = await master.submit(tasks.square, 12 as never);
    const version = await master.submit(tasks.nodeVersion, null as never);
    // Queue the job before the client asks for work (an empty first reply backs it off ten minutes).
    await fake.waitFor(() => (fake.workunits().length === 2 ? true : undefined), { timeoutMs: 60_000, what: 'the two workunits' });

    client = createBoincClientHarness({
      serverUrl: fake.url,
      appName: app,
      versionNum: 100,
      ...appVersion,
      ncpus: 1,
      startTimeoutMs: 60_000,
      ...(debug ? { onOutput: debug } : {}),
    });
    await client.start();
    expect(await squared.result).toBe(144);
    // The task ran in the Node.js that init shipped, not this machine's.
    expect(await version.result).toBe('v24.21.0');

    // Both came through tsmw's assimilator, run by script_assimilator in its default form (the
    // master may have the result before the fake project records the assimilator's exit).
    await fake.waitFor(() => (fake.assimilatorRuns.filter((record) => record.exitCode === 0).length === 2 ? true : undefined), { timeoutMs: 30_000, what: 'two assimilator runs' });
    for (const workunit of fake.workunits()) {
      const canonical = workunit.results.find((result) => result.id === workunit.canonicalResultId)!;
      const run = fake.assimilatorRuns.find((record) => record.workunitName === workunit.name && record.exitCode === 0);
      expect(run?.command).toBe(`../bin/tsmw_assimilator  ${workunit.id} ${canonical.outputs[0]!.path}`);
    }
    await master.close();
    master = undefined;
  }, 600_000);
});
