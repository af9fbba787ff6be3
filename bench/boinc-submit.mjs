#!/usr/bin/env node
// The BOINC transport on the server host, against the fake project of tools/boinc-test-server:
//   1. staging and creating a 10,000-task batch (envelopes into download/, one bin/create_work
//      --stdin per chunk of 400), with fsync'ed staging (the default) and without;
//   2. the remote face's submission of the same batch through the remote client (one
//      submit_batch; the client inlines or uploads each envelope);
//   3. the master's RSS while it collects 100,000 results from the batch's inbox (in a child
//      process: the results are written into the inbox as tsmw's assimilator leaves them).
//
// Run after a build (`npx turbo run build --filter=@tsmw/transport-boinc...`):
//   node bench/boinc-submit.mjs [--tasks 10000] [--results 100000] [--quick] [--only on-server|master]
//   (--only on-server: part 1 alone, durable staging only; --only master: the master's own part
//   alone; --chunk-size N: the transport's chunkSize)
// Part 1 also runs once against a create_work that reads its input and does nothing else: what
// the master itself spends (staging, the store, the create_work lines and processes).
// On demand only: never part of CI's pass/fail.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMaster, encodeResultEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import { createFakeBoincProject } from '@tsmw/boinc-test-server';
import {
  bundleTaskModule,
  createBoincTransport,
  createSubmitRpcClient,
  formatJobName,
  jobKeyToken,
  renderInputTemplate,
  renderOutputTemplate,
  tsmwProgramNames,
  tsmwProgramPaths,
  tsmwProjectLayout,
  writeAppManifest,
} from '@tsmw/transport-boinc';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const index = argv.indexOf(name);
  return index === -1 ? fallback : Number(argv[index + 1]);
};
const quick = argv.includes('--quick');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
const onServerOnly = only === 'on-server' || only === 'master';
const chunkSize = option('--chunk-size', undefined);
const taskCount = option('--tasks', quick ? 2_000 : 10_000);
const resultCount = option('--results', quick ? 20_000 : 100_000);
const tasksUrl = new URL('./tsmw-tasks.mjs', import.meta.url);
const app = 'tsmw';

if (argv[0] === '--collect-child') {
  await collectChild(JSON.parse(argv[1]));
  process.exit(0);
}

const root = await mkdtemp(join(tmpdir(), 'tsmw-bench-boinc-'));
try {
  const { project, bundle } = await fakeProject(join(root, 'project'));
  try {
    console.log(`BOINC transport on the server host, fake project, ${taskCount.toLocaleString('en')} tasks, Node ${process.version}`);
    for (const durableStaging of only === 'master' ? [] : onServerOnly ? [true] : [true, false]) {
      const callsBefore = project.calls('create_work').length;
      const { seconds, startedAt, endedAt } = await createBatch(project, bundle, `submit-${durableStaging ? 'fsync' : 'nosync'}`, durableStaging);
      const runs = project.calls('create_work').slice(callsBefore).filter((call) => call.endedAt !== undefined);
      const inCreateWork = runs.reduce((total, call) => total + (call.endedAt - call.startedAt), 0) / 1000;
      console.log(
        `  staging + create_work, ${durableStaging ? 'durable    ' : 'not durable'}: ${seconds.toFixed(1)} s  (${Math.round(taskCount / seconds).toLocaleString('en')} tasks/s; ${runs.length} create_work runs, ${inCreateWork.toFixed(1)} s inside the fake project's create_work)`,
      );
      if (runs.length > 0) {
        // Where the master waits on its own work: before the first create_work, between runs, after the last.
        const gaps = runs.slice(1).reduce((total, call, index) => total + Math.max(0, call.startedAt - runs[index].endedAt), 0) / 1000;
        console.log(
          `    master alone: ${((runs[0].startedAt - startedAt) / 1000).toFixed(1)} s before the first create_work, ${gaps.toFixed(1)} s between runs, ${((endedAt - runs.at(-1).endedAt) / 1000).toFixed(1)} s after the last; create_work runs took ${runs.map((call) => ((call.endedAt - call.startedAt) / 1000).toFixed(1)).join(' ')} s`,
        );
      }
    }
    {
      // The transport alone: a create_work that takes its input and creates nothing.
      const createWork = join(project.directory, 'bin', 'create_work');
      const saved = join(project.directory, 'bin', 'create_work.fake');
      await rename(createWork, saved);
      await writeFile(createWork, '#!/bin/sh\nexec cat > /dev/null\n');
      await chmod(createWork, 0o755);
      try {
        const { seconds } = await createBatch(project, bundle, 'submit-alone', true);
        console.log(`  the master's own part (create_work that creates nothing), durable: ${seconds.toFixed(1)} s  (${Math.round((seconds * 1e6) / taskCount)} µs per task)`);
      } finally {
        await rename(saved, createWork);
      }
    }
    if (!onServerOnly) {
      const remoteSeconds = await submitRemotely(project, bundle);
      console.log(`  remote submit_batch of the same batch (remote client):       ${remoteSeconds.toFixed(1)} s  (${Math.round(taskCount / remoteSeconds).toLocaleString('en')} tasks/s)`);
    }
  } finally {
    await project.close();
  }
  if (!onServerOnly) await collectResults(root);
} finally {
  await rm(root, { recursive: true, force: true });
}

async function collectResults(root) {

  // 3. RSS while collecting, in a child process of its own.
  const collectProject = join(root, 'collect');
  const collect = await fakeProject(collectProject);
  await collect.project.close(); // the child needs the files only (and create_work)
  const report = await new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--collect-child', JSON.stringify({ projectHome: collectProject, count: resultCount })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', resolve);
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`the collecting child exited with ${code}`))));
  });
  console.log(`  collecting ${resultCount.toLocaleString('en')} results from the inbox (written as the assimilator would, meanwhile): ${report.seconds.toFixed(1)} s (${Math.round(resultCount / report.seconds).toLocaleString('en')} results/s)`);
  console.log(`  master RSS while collecting (MiB), at each tenth: ${report.rss.map((bytes) => Math.round(bytes / 1048576)).join(' ')}`);
  console.log(`  RSS after collecting vs after submitting: ${(report.rss.at(-1) / report.rss[0]).toFixed(2)}x`);
}

/** A fake project set up as tsmw-setup would, with its daemons stopped (nothing runs the jobs). */
async function fakeProject(directory) {
  const project = await createFakeBoincProject({
    directory,
    apps: [{ name: app, inputTemplate: renderInputTemplate(), outputTemplate: renderOutputTemplate({ maxNbytes: 1 << 26 }) }],
    daemons: [`sample_trivial_validator -d 3 --app ${app}`, `script_assimilator -d 3 --app ${app} --script ${tsmwProgramNames.assimilator}`],
    start: false,
  });
  const layout = tsmwProjectLayout(directory);
  await mkdir(layout.programsDirectory, { recursive: true });
  const paths = tsmwProgramPaths();
  for (const program of Object.keys(tsmwProgramNames)) {
    const installed = join(layout.programsDirectory, `${tsmwProgramNames[program]}.mjs`);
    await copyFile(paths[program], installed);
    await writeFile(layout.binPath(tsmwProgramNames[program]), `#!/bin/sh\nexec '${process.execPath}' '${installed}' "$@"\n`);
    await chmod(layout.binPath(tsmwProgramNames[program]), 0o755);
  }
  const bundle = await bundleTaskModule(tasksUrl);
  await writeAppManifest(directory, {
    format: 1,
    app,
    versions: [{ versionNum: 100, moduleHash: bundle.hash, taskNames: [], platforms: ['x86_64-pc-linux-gnu'], node: { mode: 'host' }, runtimeVersion: '0.1.0', createdAt: new Date().toISOString() }],
  });
  return { project, bundle };
}

function envelopes(bundle, count) {
  return Array.from({ length: count }, (_, index) => {
    const taskId = `k:map-0-${index}`;
    return {
      taskId,
      taskName: 'add',
      attempt: 1,
      key: `map-0-${index}`,
      envelope: encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId, taskName: 'add', moduleHash: bundle.hash, attempt: 1, input: { a: index, b: 1 } }),
      files: [],
    };
  });
}

async function createBatch(project, bundle, batch, durableStaging) {
  const transport = createBoincTransport({ app, projectHome: project.directory, durableStaging, ...(chunkSize === undefined ? {} : { chunkSize }) });
  await transport.doStart({ taskModule: { url: tasksUrl.href, hash: bundle.hash, taskNames: ['add'] }, maxEnvelopeBytes: 1 << 26, batch });
  const tasks = envelopes(bundle, taskCount);
  const startedAt = Date.now();
  const started = performance.now();
  await transport.doSubmit(tasks);
  const seconds = (performance.now() - started) / 1000;
  const endedAt = Date.now();
  await transport.doClose({ force: false });
  return { seconds, startedAt, endedAt };
}

async function submitRemotely(project, bundle) {
  const client = createSubmitRpcClient({ url: project.url, authenticator: project.authenticator, timeoutMs: 600_000 });
  const tasks = envelopes(bundle, taskCount);
  const started = performance.now();
  await client.submitBatch({
    appName: app,
    batchName: `remote-${randomBytes(3).toString('hex')}`,
    jobs: tasks.map((task) => ({ name: formatJobName('remote', jobKeyToken(task.key, task.taskId), 1), inputFiles: [{ kind: 'bytes', data: task.envelope }] })),
  });
  return (performance.now() - started) / 1000;
}

/** In a child process: a master submits `count` tasks, their results appear in the inbox, the master collects them. */
async function collectChild({ projectHome, count }) {
  const batch = 'collect';
  const layout = tsmwProjectLayout(projectHome);
  const master = await createMaster({ transport: createBoincTransport({ app, projectHome, durableStaging: false, checkDaemons: false }), tasks: tasksUrl, batch });
  const { add } = await import(tasksUrl.href);
  const inputs = Array.from({ length: count }, (_, index) => ({ a: index, b: 1 }));
  const rss = [];
  let collected = 0;
  const outputs = master.mapStream(add, inputs);
  // Wait until every job exists, then write every result envelope into the inbox (as tsmw's
  // assimilator moves them there), in slices, while the master collects.
  const { BatchStore } = await import('@tsmw/transport-boinc');
  const store = BatchStore.open({ path: layout.batchStorePath(batch), batch, app, mode: 'on-server', location: projectHome, readOnly: true });
  const waitForCreated = async () => {
    for (;;) {
      const counts = store.counts();
      if (counts.created + counts.returned >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  let collectStart = 0;
  const writing = (async () => {
    await waitForCreated();
    collectStart = performance.now();
    rss.push(process.memoryUsage().rss);
    for (let index = 0; index < count; index += 1) {
      const taskId = `k:map-0-${index}`;
      const jobName = formatJobName(batch, jobKeyToken(`map-0-${index}`, taskId), 1);
      const bytes = encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId, attempt: 1, ok: true, output: index + 1, timing: { startedAt: 0, wallMs: 1, cpuMs: 1 } });
      await writeFile(join(layout.batchInbox(batch), `${jobName}.out`), bytes);
    }
  })();
  for await (const output of outputs) {
    if (output !== collected + 1) throw new Error(`output ${collected} is ${output}`);
    collected += 1;
    if (collected % Math.ceil(count / 10) === 0) rss.push(process.memoryUsage().rss);
  }
  await writing;
  const seconds = (performance.now() - collectStart) / 1000;
  store.close();
  await master.close();
  process.send({ seconds, rss });
}
