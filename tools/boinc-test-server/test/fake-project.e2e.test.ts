// A real BOINC client against the fake project: one job made with the project's own
// `bin/create_work --stdin`, one through remote `submit_batch`; both run, upload, validate and end
// with the configured assimilator called as script_assimilator calls it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBoincClientHarness, createFakeBoincProject, findBoincClient } from '../src/index.js';
import type { BoincClientHarness, FakeBoincProject } from '../src/index.js';

const boincPath = findBoincClient();
const inCi = process.env['CI'] === 'true';
const debug = process.env['TSMW_DEBUG_BOINC'] === '1' ? (line: string) => console.log(line) : undefined;
const skipReason = 'the BOINC client is not installed (apt-get install -y --no-install-recommends boinc-client)';
if (boincPath === null && !inCi) console.warn(`skipping the fake-project e2e test: ${skipReason}`);

const copyApp = `#!/bin/sh
resolve() {
  if grep -q '<soft_link>' "$1" 2>/dev/null; then sed -n 's:.*<soft_link>\\(.*\\)</soft_link>.*:\\1:p' "$1"; else printf '%s\\n' "$1"; fi
}
{ printf 'argv=%s\\n' "$*"; cat "$(resolve in)"; } > "$(resolve out)" || exit 3
printf '0\\n' > boinc_finish_called
exit 0
`;

describe.skipIf(boincPath === null && !inCi)('a real BOINC client against the fake project', () => {
  let project: FakeBoincProject | undefined;
  let client: BoincClientHarness | undefined;
  let directory = '';

  afterAll(async () => {
    await client?.close();
    await project?.close();
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  it('runs a create_work job and a submit_batch job to the assimilator', async () => {
    expect(boincPath, skipReason).not.toBeNull();
    directory = await mkdtemp(join(tmpdir(), 'tsmw-fake-project-e2e-'));
    const record = join(directory, 'assimilated.txt');
    project = await createFakeBoincProject({
      directory: join(directory, 'project'),
      apps: [{ name: 'nodeapp' }],
      daemons: ['sample_trivial_validator -d 3 --app nodeapp', 'script_assimilator -d 3 --app nodeapp --script record_assimilator'],
      nextRpcDelaySeconds: 3,
      ...(debug ? { log: debug } : {}),
    });
    await writeFile(join(project.directory, 'bin', 'record_assimilator'), `#!/bin/sh\nprintf 'cwd=%s argv=%s\\n' "$(pwd)" "$*" >> ${record}\ncat "$2" >> ${record}\necho >> ${record}\n`, { mode: 0o755 });
    // Queue both jobs before the client attaches (a first reply without work backs it off).
    await writeFile(join(project.directory, 'local_in.txt'), 'from create_work\n');
    expect((await project.run('stage_file', [join(project.directory, 'local_in.txt')])).exitCode).toBe(0);
    const created = await project.run('create_work', ['--appname', 'nodeapp', '--stdin'], { stdin: '--wu_name e2e_local_1 --command_line "--mode local" local_in.txt\n' });
    expect(created).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    const submitted = await fetch(new URL('submit_rpc_handler.php', project.url), {
      method: 'POST',
      body: new URLSearchParams({
        request: `<submit_batch><authenticator>${project.authenticator}</authenticator><batch><app_name>nodeapp</app_name><batch_name>e2e_batch</batch_name><job><name>e2e_remote_1</name><command_line>--mode remote</command_line><input_file><mode>inline</mode><source>from submit_batch</source></input_file></job></batch></submit_batch>`,
      }),
    });
    expect(await submitted.text()).toContain('<batch_id>');
    await project.settle();

    client = createBoincClientHarness({
      serverUrl: project.url,
      appName: 'nodeapp',
      versionNum: 100,
      appFiles: [{ name: 'copy_app_fake.sh', data: copyApp, mainProgram: true }],
      ncpus: 1,
      startTimeoutMs: 60_000,
      ...(debug ? { onOutput: debug } : {}),
    });
    await client.start();
    const fake = project;
    await fake.waitFor(() => (fake.assimilatorRuns.filter((run) => run.exitCode === 0).length >= 2 ? true : undefined), { timeoutMs: 90_000, what: 'two assimilations' });

    const text = await readFile(record, 'utf8');
    for (const [name, content, mode] of [
      ['e2e_local_1', 'from create_work\n', 'local'],
      ['e2e_remote_1', 'from submit_batch', 'remote'],
    ] as const) {
      const workunit = fake.workunit(name)!;
      const canonical = workunit.results.find((result) => result.id === workunit.canonicalResultId)!;
      const output = canonical.outputs[0]!;
      expect(output.physicalName).toMatch(new RegExp(`^${name}_0_r\\d+_0$`));
      expect(text).toContain(`argv=${workunit.id} ${output.path}\nargv=--mode ${mode}\n${content}`);
      expect(fake.readUpload(output.physicalName)?.toString()).toBe(`argv=--mode ${mode}\n${content}`);
    }
    expect(text).toContain(`cwd=${join(fake.directory, 'tmp_')}`);
  }, 120_000);
});
