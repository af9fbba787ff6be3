import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { createFakeBoincProject } from './create-fake-boinc-project.js';
import type { FakeBoincProject } from './create-fake-boinc-project.js';
import { dirHierDirectory, dirHierPath } from './fake-project/dir-hier.js';
import { parseCommandLine } from './fake-project/parse-command-line.js';
import { childNumber, childText, findChild, findChildren, findDescendant, parseXml, textOf } from './parse-xml.js';

const projects: FakeBoincProject[] = [];
const directories: string[] = [];
afterEach(async () => {
  for (const project of projects.splice(0)) await project.close();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

/** A recording assimilator: appends its argv and cwd to a file beside the project. */
const recorder = (file: string, exitCode = 0): string => `#!/bin/sh\nprintf '%s\\n' "cwd=$(pwd) argv=$*" >> ${file}\nexit ${exitCode}\n`;

async function project(options: { daemons?: string[]; assimilatorExit?: number } = {}): Promise<{ project: FakeBoincProject; record: string }> {
  const directory = await mkdtemp(join(tmpdir(), 'tsmw-fake-project-'));
  directories.push(directory);
  const created = await createFakeBoincProject({
    directory: join(directory, 'project'),
    apps: [{ name: 'nodeapp' }],
    daemons: options.daemons ?? ['sample_trivial_validator -d 3 --app nodeapp', 'script_assimilator -d 3 --app nodeapp --script record_assimilator'],
    assimilatorRestartDelayMs: 50,
    daemonIntervalMs: 50,
  });
  projects.push(created);
  const record = join(directory, 'assimilator-calls.txt');
  await writeFile(join(created.directory, 'bin', 'record_assimilator'), recorder(record, options.assimilatorExit ?? 0), { mode: 0o755 });
  return { project: created, record };
}

async function stage(project: FakeBoincProject, name: string, data: string): Promise<void> {
  await writeFile(join(project.directory, 'download', name), data);
  const staged = await project.run('stage_file', [join(project.directory, 'download', name)]);
  expect(staged.exitCode).toBe(0);
}

describe('dir_hier and parse_command_line', () => {
  it('gives the notes’ examples for fan-out 1024 and BOINC’s quoting rules', () => {
    expect(dirHierDirectory('demo_in_1.json', 1024)).toBe('14');
    expect(dirHierDirectory('demo_in_7.json', 1024)).toBe('19d');
    expect(dirHierPath('x', '/root', 0)).toBe('/root/x');
    expect(parseCommandLine(`--wu_name a_1 --command_line "--gamma 3" 'b c' d"e f"\n`)).toEqual(['--wu_name', 'a_1', '--command_line', '--gamma 3', 'b c', 'd"e', 'f"']);
    expect(parseCommandLine('"a"b')).toEqual(['a', 'b']);
  });
});

describe('bin/create_work', () => {
  it('creates a batch from --stdin lines, prints nothing per job, and refuses a duplicate name without creating anything', async () => {
    const { project: fake } = await project();
    await stage(fake, 'in_1', 'one');
    await stage(fake, 'in_2', 'two');
    const created = await fake.run('create_work', ['--appname', 'nodeapp', '--batch', '7', '--stdin'], { stdin: '--wu_name job_1 in_1\n--wu_name job_2 --command_line "--x 1" in_2\n' });
    expect(created).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    expect(fake.workunit('job_2')?.record).toMatchObject({ batch: 7, commandLine: '--x 1' });
    const again = await fake.run('create_work', ['--appname', 'nodeapp', '--stdin'], { stdin: '--wu_name job_3 in_1\n--wu_name job_1 in_2\n' });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain("Duplicate entry 'job_1' for key 'name'");
    expect(fake.workunit('job_3')).toBeUndefined();
    expect([...fake.counters().workunitsByName.values()].every((count) => count === 1)).toBe(true);
    const calls = fake.calls('create_work').filter((call) => call.exitCode !== undefined);
    expect(calls.map((call) => call.exitCode)).toEqual([0, 1]);
    expect(calls[0]?.argv).toEqual(['--appname', 'nodeapp', '--batch', '7', '--stdin']);
  });

  it('is as strict as BOINC’s: bad stdin arguments, long lines, missing files, template conflicts, counts', async () => {
    const { project: fake } = await project();
    await stage(fake, 'in_1', 'one');
    const run = (argv: string[], stdin = ''): { exitCode: number; stdout: string; stderr: string } => fake.createWorkInProcess(['--appname', 'nodeapp', ...argv], stdin);
    expect(run(['--stdin'], '--wu_name a in_1 --target_team 3\n')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining("bad stdin argument '--target_team'") });
    expect(run(['--stdin'], `--wu_name b in_1 ${'x'.repeat(4100)}\n`)).toMatchObject({ exitCode: 1, stderr: 'fgets() buffer was too small\n' });
    expect(run(['--stdin'], '--wu_name c missing_file\n')).toMatchObject({ exitCode: 1, stdout: expect.stringContaining('copy ') });
    expect(run(['--bogus'])).toMatchObject({ exitCode: 1, stderr: "create_work: bad argument '--bogus'\n" });
    expect(run(['--stdin'], '--wu_name d in_1\n\n').exitCode).toBe(1);
    expect(fake.workunit('d')).toBeUndefined();
    expect(run(['--max_success_results', '3', '--stdin'], '--wu_name e in_1\n')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('max_success_results > max_total_results') });
    await writeFile(join(fake.directory, 'templates', 'with_cl_in'), '<input_template><file_info></file_info><workunit><file_ref><open_name>in</open_name></file_ref><command_line>--t</command_line></workunit></input_template>');
    expect(run(['--wu_template', 'templates/with_cl_in', '--command_line', '--u', '--wu_name', 'f', 'in_1'])).toMatchObject({ exitCode: 1, stderr: expect.stringContaining("Can't specify command line --t; already specified as --u") });
    expect(run(['--wu_name', 'g', '--result_template', 'templates/none_out', 'in_1'])).toMatchObject({ exitCode: 0, stderr: expect.stringContaining("result template file") });
    expect(fake.workunit('g')).toBeUndefined();
    expect(run(['in_1'])).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^workunit name: nodeapp_\d+_\d+\.\d{6}\n$/) });
    expect(run(['--appname', 'nope', 'in_1'])).toMatchObject({ exitCode: 1, stderr: 'create_work: app not found\n' });
  });
});

describe('the assimilator path', () => {
  it('runs ../bin/NAME from tmp_HOST as NAME WU_ID FILES on success and NAME --error MASK WU_NAME WU_ID BATCH on failure', async () => {
    const { project: fake, record } = await project();
    await stage(fake, 'in_1', 'one');
    fake.injectResultFault('ok_1', { outcome: 'success', outputs: ['result bytes'] });
    fake.injectResultFault('bad_1', { outcome: 'client-error', exitStatus: 3, stderr: 'boom' });
    fake.injectResultFault('late_1', { outcome: 'no-reply' });
    expect(fake.createWorkInProcess(['--appname', 'nodeapp', '--batch', '5', '--stdin'], '--wu_name ok_1 in_1\n--wu_name bad_1 in_1\n--wu_name late_1 in_1\n').exitCode).toBe(0);
    await fake.waitFor(() => (fake.assimilatorRuns.length >= 3 ? true : undefined), { what: 'three assimilations' });
    const ok = fake.workunit('ok_1')!;
    const output = ok.results[0]!.outputs[0]!;
    expect(output.physicalName).toMatch(/^ok_1_0_r\d+_0$/);
    expect(await readFile(output.path, 'utf8')).toBe('result bytes');
    const lines = (await readFile(record, 'utf8')).trim().split('\n');
    const cwd = `cwd=${join(fake.directory, `tmp_${(await import('./fake-project/project-config.js')).shortHostname()}`)}`;
    expect(lines).toContain(`${cwd} argv=${ok.id} ${output.path}`);
    expect(lines).toContain(`${cwd} argv=--error 8 bad_1 ${fake.workunit('bad_1')!.id} 5`);
    expect(lines).toContain(`${cwd} argv=--error 8 late_1 ${fake.workunit('late_1')!.id} 5`);
    expect(fake.workunit('late_1')!.results[0]!.outcome).toBe(4);
    // A fault's phantom host is no host the scheduler knows.
    expect(ok.results[0]!.hostId).toBe(-1);
  });

  it('shares an app among assimilators by --mod N R: each workunit goes to the one whose share its id is, once', async () => {
    const { project: fake } = await project({
      daemons: [
        'sample_trivial_validator -d 3 --app nodeapp',
        'script_assimilator -d 3 --app nodeapp --mod 2 0 --script record_assimilator',
        'script_assimilator -d 3 --app nodeapp --mod 2 1 --script record_assimilator',
      ],
    });
    await stage(fake, 'in_1', 'one');
    const names = Array.from({ length: 6 }, (_, index) => `share_${index}`);
    for (const name of names) fake.injectResultFault(name, { outcome: 'success', outputs: [name] });
    expect(fake.createWorkInProcess(['--appname', 'nodeapp', '--stdin'], names.map((name) => `--wu_name ${name} in_1\n`).join('')).exitCode).toBe(0);
    await fake.waitFor(() => (names.every((name) => fake.workunit(name)!.assimilateState === 2) ? true : undefined), { what: 'six assimilations' });
    expect(fake.assimilatorRuns).toHaveLength(6);
    for (const run of fake.assimilatorRuns) expect(run.daemon).toContain(`--mod 2 ${run.workunitId % 2}`);
    expect(new Set(fake.assimilatorRuns.map((run) => run.daemon)).size).toBe(2);
  });

  it('retries a workunit whose assimilator exited non-zero, and leaves results unassimilated without a validator', async () => {
    const { project: fake, record } = await project({ assimilatorExit: 1 });
    await stage(fake, 'in_1', 'one');
    fake.injectResultFault('retry_1', { outcome: 'success', outputs: ['x'] });
    fake.createWorkInProcess(['--appname', 'nodeapp', '--wu_name', 'retry_1', 'in_1']);
    await fake.waitFor(() => (fake.assimilatorRuns.length >= 2 ? true : undefined), { what: 'a retry' });
    expect(fake.workunit('retry_1')!.assimilateState).toBe(1);
    await writeFile(join(fake.directory, 'bin', 'record_assimilator'), recorder(record, 0), { mode: 0o755 });
    await fake.waitFor(() => (fake.workunit('retry_1')!.assimilateState === 2 ? true : undefined), { what: 'assimilated' });

    const { project: bare } = await project({ daemons: ['script_assimilator --app nodeapp --script record_assimilator'] });
    await stage(bare, 'in_1', 'one');
    bare.injectResultFault('never_1', { outcome: 'success', outputs: ['x'] });
    bare.createWorkInProcess(['--appname', 'nodeapp', '--wu_name', 'never_1', 'in_1']);
    await bare.settle();
    expect(bare.workunit('never_1')).toMatchObject({ canonicalResultId: 0, assimilateState: 0 });
    expect(bare.assimilatorRuns).toEqual([]);
  });

  it('validates a quorum of 2 with script_validator’s default compare form', async () => {
    const { project: fake, record } = await project({ daemons: ['script_validator --app nodeapp --compare_script compare', 'script_assimilator --app nodeapp --script record_assimilator'] });
    const compareLog = join(fake.directory, '..', 'compare.txt');
    await writeFile(join(fake.directory, 'bin', 'compare'), `#!/bin/sh\necho "$*" >> ${compareLog}\ncmp -s "$1" "$2"\n`, { mode: 0o755 });
    await stage(fake, 'in_1', 'one');
    fake.injectResultFault('q_1', { outcome: 'success', outputs: ['same'] }, 2);
    fake.createWorkInProcess(['--appname', 'nodeapp', '--wu_name', 'q_1', '--min_quorum', '2', '--target_nresults', '2', 'in_1']);
    await fake.waitFor(() => (fake.assimilatorRuns.length >= 1 ? true : undefined), { what: 'assimilation' });
    const workunit = fake.workunit('q_1')!;
    expect(workunit.results.map((result) => result.validateState)).toEqual([1, 1]);
    expect((await readFile(compareLog, 'utf8')).trim().split('\n')[0]).toBe(`${workunit.results[0]!.outputs[0]!.path} ${workunit.results[1]!.outputs[0]!.path}`);
    expect(await readFile(record, 'utf8')).toContain(`argv=${workunit.id} ${workunit.results.find((result) => result.id === workunit.canonicalResultId)!.outputs[0]!.path}`);
  });
});

describe('the project programs', () => {
  it('xadd, update_versions and start/stop record their calls and have BOINC’s effects', async () => {
    const { project: fake } = await project();
    const versionDirectory = join(fake.directory, 'apps', 'nodeapp', '1.0', 'x86_64-pc-linux-gnu');
    await (await import('node:fs/promises')).mkdir(versionDirectory, { recursive: true });
    await writeFile(join(versionDirectory, 'runner.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(join(versionDirectory, 'tasks.mjs'), 'export {}\n');
    await writeFile(join(versionDirectory, 'version.xml'), '<version><file><physical_name>runner.sh</physical_name></file><file><physical_name>tasks.mjs</physical_name></file><api_version>7.20.0</api_version></version>');
    const noMain = await fake.run('update_versions', ['--noconfirm']);
    expect(noMain.stdout).toContain('No file was marked as the main program - skipping.');
    await writeFile(join(versionDirectory, 'version.xml'), '<version><file><physical_name>runner.sh</physical_name><main_program/></file><file><physical_name>tasks.mjs</physical_name><logical_name>tasks.mjs</logical_name></file><api_version>7.20.0</api_version></version>');
    const added = await fake.run('update_versions', ['--noconfirm']);
    expect(added).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('App version added successfully; ID=1') });
    expect((await stat(join(fake.directory, 'download', 'runner.sh'))).isFile()).toBe(true);
    const stopped = await fake.run('stop');
    expect(stopped.exitCode).toBe(0);
    expect(await readFile(join(fake.directory, `run_state_${(await import('./fake-project/project-config.js')).shortHostname()}.xml`), 'utf8')).toMatch(/<enabled>\s*0\s*<\/enabled>/);
    const config = await readFile(join(fake.directory, 'config.xml'), 'utf8');
    await writeFile(join(fake.directory, 'config.xml'), config.replace(/<host>[^<]*<\/host>/, '<host>elsewhere</host>'));
    expect((await fake.run('start')).stdout).toContain('No daemons for this host found - check host name in config.xml');
    expect(fake.calls().filter((call) => call.exitCode !== undefined).map((call) => [call.program, call.argv.join(' '), call.cwd])).toEqual([
      ['update_versions', '--noconfirm', fake.directory],
      ['update_versions', '--noconfirm', fake.directory],
      ['stop', '', fake.directory],
      ['start', '', fake.directory],
    ]);
  });
});

function post(project: FakeBoincProject, page: string, request: string): Promise<Response> {
  return fetch(new URL(page, project.url), { method: 'POST', body: new URLSearchParams({ request }) });
}

describe('the remote face', () => {
  it('answers the recorded exchanges in their recorded structure, and its jobs reach the daemons', async () => {
    const { project: fake, record } = await project();
    const auth = fake.authenticator;
    const ping = await (await post(fake, 'submit_rpc_handler.php', readFixture('ping_request.xml'))).text();
    expect(ping.replace(/\s+/g, '')).toBe(readFixture('ping_response.xml').replace(/\s+/g, ''));
    fake.injectResultFault('demo_rpc_job_2', { outcome: 'success', outputs: ['{"ok":1}'] });
    const submitRequest = readFixture('submit_batch_request.xml').replace('00000000000000000000000000000000', auth).replace('nodeapp', 'nodeapp');
    const submitted = await (await post(fake, 'submit_rpc_handler.php', submitRequest)).text();
    expect(submitted.replace(/\s+/g, '').replace(/<batch_id>\d+/, '<batch_id>3')).toBe(readFixture('submit_batch_response.xml').replace(/\s+/g, ''));
    const batchId = childNumber(findChild(parseXml(submitted), 'submit_batch')!, 'batch_id');
    await fake.settle();
    await fake.waitFor(() => (fake.assimilatorRuns.length >= 1 ? true : undefined), { what: 'assimilation' });
    expect(await readFile(record, 'utf8')).toContain(`argv=${fake.workunit('demo_rpc_job_2')!.id} `);
    expect(fake.workunit('demo_rpc_job_2')!.record.commandLine).toBe('--gamma 3');
    const query = await (await post(fake, 'submit_rpc_handler.php', readFixture('query_batch_request.xml').replace('00000000000000000000000000000000', auth).replace('<batch_id>3', `<batch_id>${batchId}`))).text();
    const recorded = findChild(parseXml(readFixture('query_batch_response.xml')), 'query_batch')!;
    const ours = findChild(parseXml(query), 'query_batch')!;
    // The recorded reply carries PHP warnings (<br />, <b>) after its start tag: compare the rest.
    const elementNames = (element: ReturnType<typeof findChild>) =>
      element!.children
        .filter((node) => typeof node !== 'string')
        .map((node) => (node as { name: string }).name)
        .filter((name) => name !== 'br' && name !== 'b');
    expect(elementNames(ours)).toEqual(elementNames(recorded));
    expect(elementNames(findChild(ours, 'job'))).toEqual(elementNames(findChild(recorded, 'job')));
    expect(childText(findChild(ours, 'job')!, 'status')).toBe('done');
    expect(childText(ours, 'name')).toBe('demo_batch_2');
  });

  it('refuses bad authenticators, users without submit rights, empty inline files, and replies to abort_jobs with the malformed element', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tsmw-fake-project-'));
    directories.push(directory);
    const fake = await createFakeBoincProject({ directory, apps: [{ name: 'nodeapp' }], users: [{ name: 'a', authenticator: 'aaaa', submit: true }, { name: 'b', authenticator: 'bbbb', submit: false }] });
    projects.push(fake);
    const job = (name: string, source: string) => `<job><name>${name}</name><input_file><mode>inline</mode><source>${source}</source></input_file></job>`;
    const submit = (auth: string, jobs: string) => `<submit_batch><authenticator>${auth}</authenticator><batch><app_name>nodeapp</app_name><batch_name>b1</batch_name>${jobs}</batch></submit_batch>`;
    const errorOf = async (text: Promise<Response>) => childText(findDescendant(parseXml(await (await text).text()), 'error')!, 'error_msg');
    expect(await errorOf(post(fake, 'submit_rpc_handler.php', submit('zzzz', job('j1', 'x'))))).toBe('bad authenticator');
    expect(await errorOf(post(fake, 'submit_rpc_handler.php', submit('bbbb', job('j1', 'x'))))).toBe('no submit access');
    expect(await errorOf(post(fake, 'submit_rpc_handler.php', submit('aaaa', job('j1', ''))))).toMatch(/^can't write to file .*jf_d41d8cd98f00b204e9800998ecf8427e$/);
    const sandbox = await (await post(fake, 'submit_rpc_handler.php', submit('aaaa', job('j2', 'content')).replace('inline', 'sandbox'))).text();
    expect(sandbox).toContain('<batch_id>');
    const aborted = await (await post(fake, 'submit_rpc_handler.php', '<abort_jobs><authenticator>aaaa</authenticator><job_name>j2</job_name></abort_jobs>')).text();
    expect(aborted).toContain('<aborted j2>\n<success>1</success>');
    expect(fake.workunit('j2')!.errorMask & 16).toBe(16);
  });

  it('injects PHP warnings, HTML pages, 500s, truncation, error replies and a stall', async () => {
    const { project: fake } = await project();
    const ping = readFixture('ping_request.xml');
    fake.injectRemoteFault({ kind: 'php-warning-before-xml' }, { op: 'ping' });
    expect(await (await post(fake, 'submit_rpc_handler.php', ping)).text()).toMatch(/^<br \/>\n<b>Warning<\/b>.*\n<\?xml/);
    fake.injectRemoteFault({ kind: 'php-warning-after-start-tag' });
    expect(await (await post(fake, 'submit_rpc_handler.php', ping)).text()).toMatch(/<ping>\n<br \/>\n<b>Warning/);
    fake.injectRemoteFault({ kind: 'http-500' });
    expect((await post(fake, 'submit_rpc_handler.php', ping)).status).toBe(500);
    fake.injectRemoteFault({ kind: 'html-error-page' });
    expect(await (await post(fake, 'submit_rpc_handler.php', ping)).text()).toContain('<!DOCTYPE html>');
    fake.injectRemoteFault({ kind: 'truncated' });
    expect((await (await post(fake, 'submit_rpc_handler.php', ping)).text()).includes('</ping>')).toBe(false);
    fake.injectRemoteFault({ kind: 'error-reply', errorNum: -183, message: 'Project is temporarily offline' });
    const error = findDescendant(parseXml(await (await post(fake, 'submit_rpc_handler.php', ping)).text()), 'error')!;
    expect([childNumber(error, 'error_num'), childText(error, 'error_msg')]).toEqual([-183, 'Project is temporarily offline']);
    fake.injectRemoteFault({ kind: 'stall' });
    const stalled = post(fake, 'submit_rpc_handler.php', ping).catch((reason: unknown) => reason);
    const pending = fetch(new URL('submit_rpc_handler.php', fake.url), { method: 'POST', body: new URLSearchParams({ request: ping })}).then((response) => response.text());
    expect(await pending).toContain('<success>1</success>');
    await fake.close();
    expect(await stalled).toBeInstanceOf(Error);
    void findChildren;
    void textOf;
  });
});
