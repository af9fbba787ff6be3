// monte-pi with -i boinc, run as a user runs it, against a fake BOINC project set up by
// `tsmw-setup init` and worked by phantom volunteers: on the server host (-p) and remotely
// (--url with the account key in the environment). The same seed on the local transport throws
// the same darts, so BOINC must report the very same hits.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliJson, withoutInitCwd } from '../../test/run-cli.js';
import { createExampleProject, type ExampleProject } from '../../test/create-example-project.js';
import { startPhantomVolunteers, type PhantomVolunteers } from '../../test/start-phantom-volunteers.js';
import type { DetachedReport } from '../shared/detached-report.js';
import type { MontePiReport } from './run-monte-pi.js';

const tasksModule = new URL('../../dist/monte-pi/tasks.js', import.meta.url);
const work = ['-t', '4', '-d', '40000', '--seed', '7'];

describe('monte-pi -i boinc', () => {
  let example: ExampleProject;
  let volunteers: PhantomVolunteers;
  let local: MontePiReport;
  beforeAll(async () => {
    [example, local] = await Promise.all([
      createExampleProject({ app: 'monte-pi', tasks: 'dist/monte-pi/tasks.js' }),
      runCliJson<MontePiReport>(['monte-pi', ...work, '-n', '1']),
    ]);
    volunteers = await startPhantomVolunteers(example.project, tasksModule);
  });
  afterAll(async () => {
    volunteers?.stop();
    await example?.close();
  });

  // Both masters run at once (their batches differ).
  it.concurrent('on the server host (-p) prints the estimate the same darts give locally', async () => {
    const report = await runCliJson<MontePiReport>(['monte-pi', '-i', 'boinc', '-p', example.project.directory, ...work, '--batch', 'pi-on-server']);
    expect(report.transport).toBe('tsmw.boinc');
    expect(report.batch).toBe('pi-on-server');
    expect(report.workers).toBeNull();
    expect(report.darts).toBe(40_000);
    expect(report.hits).toBe(local.hits);
    expect(report.estimate).toBe(local.estimate);
    expect(Math.abs(report.estimate - Math.PI)).toBeLessThan(0.1);
    const workunits = example.project.workunits().filter((workunit) => workunit.name.includes('pi-on-server'));
    expect(workunits.length).toBeGreaterThan(0);
    expect(workunits.every((workunit) => workunit.appName === 'monte-pi' && workunit.canonicalResultId !== 0)).toBe(true);
    expect(volunteers.errors).toEqual([]);
  });

  it.concurrent('remotely (--url, key from TSMW_BOINC_AUTHENTICATOR) prints pi and never the key', async () => {
    const authenticator = example.project.authenticator;
    const run = await runCli(
      ['monte-pi', '-i', 'boinc', '--url', example.project.url, '--state-directory', join(example.home, 'state'), '--poll-interval', '0.2', ...work, '--batch', 'pi-remote'],
      { env: { ...withoutInitCwd(process.env), TSMW_BOINC_AUTHENTICATOR: authenticator } },
    );
    expect(run.stderr).not.toContain(authenticator);
    expect(run.stdout).not.toContain(authenticator);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`pi ≈ ${local.estimate.toFixed(7)}  (error ${local.error.toExponential(2)}, seed 7)`);
    expect(run.stdout).toMatch(/40,000 darts in 4 tasks on tsmw.boinc: /);
    expect(run.stderr).toContain('batch pi-remote: 4 tasks on BOINC (app monte-pi, remote project');
    expect(volunteers.errors).toEqual([]);
  });

  it.concurrent('--detach submits and returns; the same command without it collects the results', async () => {
    const command = ['monte-pi', '-i', 'boinc', '-p', example.project.directory, ...work, '--batch', 'pi-detached'];
    const detached = await runCliJson<DetachedReport>([...command, '--detach']);
    expect(detached).toEqual({ detached: true, batch: 'pi-detached', tasks: 4, transport: 'tsmw.boinc', app: 'monte-pi', project: example.project.directory });
    const report = await runCliJson<MontePiReport>(command);
    expect(report.hits).toBe(local.hits);
    const workunits = example.project.workunits().filter((workunit) => workunit.name.includes('pi-detached'));
    const created = example.project.counters().workunitsByName;
    for (const workunit of workunits) expect(created.get(workunit.name)).toBe(1);
  });
});
