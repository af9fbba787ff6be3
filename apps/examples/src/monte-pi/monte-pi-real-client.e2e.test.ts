// monte-pi with -i boinc as a user runs it, worked by a REAL BOINC client: the fake project is set
// up by `tsmw-setup init --node host` (run as a program), one client (ncpus 2) runs the app
// version init made (its launcher execs this host's node on the tsmw runtime, with the bundled
// task module beside it) through the project's scheduler and upload handler, and the project's
// validator and tsmw's installed assimilator deliver the results. Two masters at once, 20 tasks
// each: one on the server host (-p), one remote (--url, the key in TSMW_BOINC_AUTHENTICATOR).
// The same seed on the local transport throws the same darts, so BOINC must report the same hits.
//
// The command is the built CLI, `node apps/examples/dist/cli.js` from the repository root: what
// `npm run example --` runs once its turbo build is done (that build is left out: a turbo run
// inside `npm test`'s own turbo run could rewrite the dist/ files other tests are reading).
//
// The fake project cannot sign app versions, so the client runs the app version as an anonymous
// platform: app_info.xml is made from init's version.xml, the files those init wrote.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBoincClientHarness, findBoincClient, readAppVersionDirectory, type BoincClientHarness } from '@tsmw/boinc-test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleProject, type ExampleProject } from '../../test/create-example-project.js';
import { runCli, runCliJson, withoutInitCwd, type CliRun } from '../../test/run-cli.js';
import type { MontePiReport } from './run-monte-pi.js';

const boincPath = findBoincClient();
const inCi = process.env['CI'] === 'true';
const skipReason = 'the BOINC client is not installed (apt-get install -y --no-install-recommends boinc-client)';
if (boincPath === null && !inCi) console.warn(`skipping the monte-pi real-client e2e test: ${skipReason}`);
const debug = process.env['TSMW_DEBUG_BOINC'] === '1' ? (line: string) => console.log(line) : undefined;

const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const app = 'monte-pi';
const platform = 'x86_64-pc-linux-gnu';
const taskCount = 20;
// Few darts: the BOINC round trip is what is tested, not the arithmetic.
const work = ['-t', String(taskCount), '-d', '40000', '--seed', '7'];
const batches = { onServer: 'pi-real-on-server', remote: 'pi-real-remote' } as const;
// Only against a hang: the client runs the 40 tasks two at a time, some 3 s each on a loaded machine.
const hangTimeoutMs = 600_000;

describe.skipIf(boincPath === null && !inCi)('monte-pi -i boinc worked by a real BOINC client', () => {
  let example: ExampleProject | undefined;
  let client: BoincClientHarness | undefined;
  let local: MontePiReport;
  let onServer: Promise<CliRun>;
  let remote: Promise<CliRun>;

  beforeAll(async () => {
    expect(boincPath, skipReason).not.toBeNull();
    // A short next_rpc_delay: the client asks again soon after a reply that brought no work.
    [example, local] = await Promise.all([
      createExampleProject({ app, tasks: 'dist/monte-pi/tasks.js', nextRpcDelaySeconds: 2, ...(debug ? { log: debug } : {}) }),
      runCliJson<MontePiReport>(['monte-pi', ...work, '-n', '1'], { cwd: repositoryRoot }),
    ]);
    const project = example.project;
    onServer = runCli(['monte-pi', '-i', 'boinc', '-p', project.directory, ...work, '--batch', batches.onServer, '--json'], { cwd: repositoryRoot });
    remote = runCli(['monte-pi', '-i', 'boinc', '--url', project.url, '--state-directory', join(example.home, 'state'), '--poll-interval', '0.2', ...work, '--batch', batches.remote], {
      cwd: repositoryRoot,
      env: { ...withoutInitCwd(process.env), TSMW_BOINC_AUTHENTICATOR: project.authenticator },
    });
    // Both batches are queued before the client first asks for work (a reply without work backs
    // it off); a master that exits before then fails the hook with what it printed.
    const exitedEarly = (name: string, run: Promise<CliRun>): Promise<never> =>
      run.then((result) => {
        throw new Error(`the ${name} master exited ${result.code} before its tasks were queued:\n${result.stdout}${result.stderr}`);
      });
    await Promise.race([
      project.waitFor(() => (project.workunits().length === 2 * taskCount ? true : undefined), { timeoutMs: 120_000, what: `the ${2 * taskCount} workunits` }),
      exitedEarly('-p', onServer),
      exitedEarly('--url', remote),
    ]);

    const appVersion = await readAppVersionDirectory(join(project.directory, 'apps', app, '1.00', platform));
    client = createBoincClientHarness({
      serverUrl: project.url,
      appName: app,
      versionNum: 100,
      ...appVersion,
      ncpus: 2,
      startTimeoutMs: 60_000,
      ...(debug ? { onOutput: debug } : {}),
    });
    await client.start();
  }, hangTimeoutMs);

  afterAll(async () => {
    await client?.close();
    await example?.close();
  });

  /** The batch's workunits, each with a canonical result that this client computed and uploaded, and that the installed assimilator handed over. */
  async function expectWorkedByTheClient(batch: string): Promise<void> {
    const project = example!.project;
    const workunits = project.workunits().filter((workunit) => workunit.name.includes(batch));
    expect(workunits).toHaveLength(taskCount);
    const uploaded = project.counters().filesUploaded;
    for (const workunit of workunits) {
      expect(workunit.appName).toBe(app);
      const canonical = workunit.results.find((result) => result.id === workunit.canonicalResultId);
      expect(canonical, `${workunit.name} has a canonical result`).toBeDefined();
      // Sent by the scheduler to the client's host (an injected phantom host is -1), its output
      // uploaded through the file upload handler, and the client says it ran it.
      expect(canonical!.hostId).toBeGreaterThan(0);
      expect(uploaded.get(canonical!.outputs[0]!.physicalName)).toBe(1);
      expect(client!.output()).toContain(`Computation for task ${canonical!.name} finished`);
      // The master may have the result before the double notes the assimilator's exit.
      await project.waitFor(() => (project.assimilatorRuns.some((run) => run.workunitName === workunit.name && run.exitCode === 0) ? true : undefined), {
        timeoutMs: 30_000,
        what: `the assimilation of ${workunit.name}`,
      });
    }
  }

  it('on the server host (-p): the estimate the same darts give locally', async () => {
    const run = await onServer;
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as MontePiReport;
    expect(report).toMatchObject({ transport: 'tsmw.boinc', batch: batches.onServer, workers: null, tasks: taskCount, darts: 40_000, seed: 7 });
    expect(report.hits).toBe(local.hits);
    expect(report.estimate).toBe(local.estimate);
    expect(Math.abs(report.estimate - Math.PI)).toBeLessThan(0.05);
    await expectWorkedByTheClient(batches.onServer);
  }, hangTimeoutMs);

  it('remotely (--url, key from TSMW_BOINC_AUTHENTICATOR): the same estimate, and never the key', async () => {
    const run = await remote;
    const authenticator = example!.project.authenticator;
    expect(run.stdout).not.toContain(authenticator);
    expect(run.stderr).not.toContain(authenticator);
    expect(run.code, run.stderr).toBe(0);
    // 40,000 darts: the estimate, 4 * hits / 40,000, has four decimals, so seven show the hits exactly.
    expect(run.stdout).toContain(`pi ≈ ${local.estimate.toFixed(7)}  (error ${local.error.toExponential(2)}, seed 7)`);
    expect(run.stdout).toMatch(/40,000 darts in 20 tasks on tsmw\.boinc: /);
    expect(run.stderr).toContain(`batch ${batches.remote}: 20 tasks on BOINC (app monte-pi, remote project`);
    await expectWorkedByTheClient(batches.remote);
  }, hangTimeoutMs);
});
