#!/usr/bin/env node
// Measures the runtime as shipped (dist/tsmw-runtime.mjs; run `npm run build` first):
//   1. the bundle's size;
//   2. start-up time: from spawning `tsmw-runtime` to the task's first instruction (median of 10);
//   3. CPU overhead of serving the BOINC channel: the runtime process's own CPU time while a task
//      sleeps for DURATION seconds in a fake slot, with this script playing the client (a heartbeat
//      and a status taken every second), as a percentage of one core.
//   4. with --against OTHER_BUNDLE: start-up of this bundle and another one (an earlier build),
//      alternated in the same run, and their ratio.
// Usage: node scripts/measure-runtime.mjs [DURATION_SECONDS=30] [--against OTHER_BUNDLE]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { decodeResultEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import { build } from 'esbuild';

const bin = fileURLToPath(new URL('../dist/tsmw-runtime.mjs', import.meta.url));
const againstIndex = process.argv.indexOf('--against');
const against = againstIndex > 0 ? process.argv[againstIndex + 1] : undefined;
const positional = process.argv.slice(2).filter((argument, index, all) => argument !== '--against' && all[index - 1] !== '--against');
const durationSeconds = Number(positional[0] ?? 30);

const taskSource = `
import { defineTask } from '@tsmw/core';
export const firstInstruction = defineTask('firstInstruction', () => ({ at: Date.now() }));
export const sleepFor = defineTask('sleepFor', (input) => new Promise((resolve) => setTimeout(() => resolve(input.ms), input.ms)));
`;
const bundled = await build({
  stdin: { contents: taskSource, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'js' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'silent',
});
const moduleBytes = bundled.outputFiles[0].contents;
const moduleHash = createHash('sha256').update(moduleBytes).digest('hex');
const envelope = (taskName, input) => encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: taskName, taskName, moduleHash, attempt: 1, input });

function run(cwd, args, program = bin) {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [program, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return { child, spawnedAt, exited: new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr }))) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const cpuSeconds = (pid) => {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime of the runtime process alone
};

const size = statSync(bin).size;
console.log(`bundle: ${size} bytes (${(size / 1024).toFixed(1)} KiB), ${gzipSync(readFileSync(bin)).length} bytes gzipped`);

// 2. Start-up to the first task instruction, by hand (no init_data.xml).
const dir = await mkdtemp(join(tmpdir(), 'tsmw-measure-'));
try {
  await writeFile(join(dir, 'tasks.mjs'), moduleBytes);
  await writeFile(join(dir, 'in'), envelope('firstInstruction', null));
  const startups = [];
  for (let index = 0; index < 11; index += 1) {
    const started = run(dir, []);
    const { code, stderr } = await started.exited;
    if (code !== 0) throw new Error(`runtime exited ${code}: ${stderr}`);
    const result = decodeResultEnvelope(await readFile(join(dir, 'out')));
    if (index > 0) startups.push(result.output.at - started.spawnedAt); // the first run warms the disk cache
  }
  // For scale: one bare Node process from spawn to its first instruction (the runtime starts two).
  const bare = [];
  for (let index = 0; index < 11; index += 1) {
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, ['-e', 'process.stdout.write(String(Date.now()))'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    await new Promise((resolve) => child.once('close', resolve));
    if (index > 0) bare.push(Number(out) - spawnedAt);
  }
  console.log(
    `start-up to the task's first instruction: median ${median(startups)} ms (min ${Math.min(...startups)}, max ${Math.max(...startups)}, ${startups.length} runs); ` +
      `a bare \`node -e\` takes ${median(bare)} ms here`,
  );

  // 4. Against another bundle, alternated, so that both see the same load.
  if (against !== undefined) {
    const firstInstruction = async (program) => {
      const started = run(dir, [], program);
      const { code, stderr } = await started.exited;
      if (code !== 0) throw new Error(`${program} exited ${code}: ${stderr}`);
      return decodeResultEnvelope(await readFile(join(dir, 'out'))).output.at - started.spawnedAt;
    };
    await firstInstruction(bin);
    await firstInstruction(against);
    const ours = [];
    const theirs = [];
    for (let index = 0; index < 15; index += 1) {
      ours.push(await firstInstruction(bin));
      theirs.push(await firstInstruction(against));
    }
    console.log(
      `start-up against ${against} (${statSync(against).size} bytes), alternated 15 times: median ${median(ours)} ms vs ${median(theirs)} ms, ratio ${(median(ours) / median(theirs)).toFixed(2)}`,
    );
  }

  // 3. The channel's CPU overhead, in a fake slot.
  const slotDir = join(dir, 'boinc', 'slots', '0');
  const projectDir = join(dir, 'boinc', 'projects', 'p');
  await mkdir(slotDir, { recursive: true });
  await mkdir(projectDir, { recursive: true });
  await writeFile(join(projectDir, 'tasks_1.mjs'), moduleBytes);
  await writeFile(join(projectDir, 'job_in'), envelope('sleepFor', { ms: durationSeconds * 1000 + 3000 }));
  await writeFile(join(slotDir, 'tasks.mjs'), '<soft_link>../../projects/p/tasks_1.mjs</soft_link>\n');
  await writeFile(join(slotDir, 'in'), '<soft_link>../../projects/p/job_in</soft_link>\n');
  await writeFile(join(slotDir, 'out'), '<soft_link>../../projects/p/job_out</soft_link>\n');
  await writeFile(join(slotDir, 'init_data.xml'), `<app_init_data>\n<shm_key>-1</shm_key>\n<client_pid>${process.pid}</client_pid>\n</app_init_data>\n`);
  await writeFile(join(slotDir, 'boinc_mmap_file'), Buffer.alloc(8192));
  const mmap = openSync(join(slotDir, 'boinc_mmap_file'), 'r+');
  let statuses = 0;
  const client = setInterval(() => {
    const flag = Buffer.alloc(1);
    readSync(mmap, flag, 0, 1, 4096);
    if (flag[0] === 0) {
      const text = Buffer.from('<heartbeat/><wss>0</wss><max_wss>0</max_wss>\0');
      writeSync(mmap, text, 0, text.length, 4097);
      writeSync(mmap, Buffer.from([1]), 0, 1, 4096);
    }
    readSync(mmap, flag, 0, 1, 5120);
    if (flag[0] === 1) {
      statuses += 1;
      writeSync(mmap, Buffer.from([0]), 0, 1, 5120);
    }
  }, 1000);
  const started = run(slotDir, []);
  await new Promise((resolve) => setTimeout(resolve, 2000)); // past start-up
  const cpuBefore = cpuSeconds(started.child.pid);
  const wallBefore = Date.now();
  const statusesBefore = statuses;
  await new Promise((resolve) => setTimeout(resolve, durationSeconds * 1000));
  const cpu = cpuSeconds(started.child.pid) - cpuBefore;
  const wall = (Date.now() - wallBefore) / 1000;
  const { code, stderr } = await started.exited;
  clearInterval(client);
  closeSync(mmap);
  if (code !== 0) throw new Error(`runtime exited ${code}: ${stderr}`);
  console.log(
    `status channel: ${cpu.toFixed(2)} CPU s in ${wall.toFixed(1)} s = ${((cpu / wall) * 100).toFixed(2)} % of one core ` +
      `(${statuses - statusesBefore} status messages; /proc ticks are 10 ms, so read this as an upper bound)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
