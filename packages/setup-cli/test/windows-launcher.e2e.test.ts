// The Windows launcher is node.exe made a single executable application with
// `windowsLauncherSource` embedded. Windows cannot run here, so the same script is embedded the
// same way (postject, Node 24's --experimental-sea-config) into the Linux x64 Node.js of the same
// release, and run as a BOINC client runs a main program: from a slot, by a path into the project
// directory, with the runtime reached through its open name. It checks what the script does:
// finding the runtime, starting it with the client's arguments, the runtime's own fork of
// itself (the task process), exit statuses, and one-line failures.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeBundlePath } from '@tsmw/client-runtime';
import { decodeResultEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import { bundleTaskModule } from '@tsmw/transport-boinc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeOpenName, windowsLauncherSource } from '../src/app-version/launchers.js';
import { fetchNode } from '../src/app-version/node-cache.js';
import { nodeReleases } from '../src/app-version/node-releases.js';
import { buildSingleExecutable } from '../src/app-version/single-executable.js';
import { createWriteGuard } from '../src/plan/write-guard.js';
import { tasksFixture } from './fixture-project.js';
import { sharedNodeCache } from './shared-cache.js';

const supported = process.platform === 'linux' && process.arch === 'x64';
if (!supported) console.warn('skipping the single-executable launcher test: it needs Linux x64');

describe.skipIf(!supported)('the Windows launcher script, embedded into Node.js 24 as a single executable', () => {
  let directory = '';
  let executable = '';
  let slot = '';
  let moduleHash = '';

  beforeAll(async () => {
    const cacheDirectory = sharedNodeCache();
    const guard = await createWriteGuard([cacheDirectory]);
    const node = await fetchNode(nodeReleases['x86_64-pc-linux-gnu'], { cacheDirectory, registry: 'https://registry.npmjs.org/', guard });
    const built = await buildSingleExecutable(node, node, windowsLauncherSource, { cacheDirectory, guard });
    directory = await mkdtemp(join(tmpdir(), 'tsmw-sea-'));
    const projectDirectory = join(directory, 'projects', 'example.org_p');
    slot = join(directory, 'slots', '0');
    await mkdir(projectDirectory, { recursive: true });
    await mkdir(slot, { recursive: true });
    executable = join(projectDirectory, 'tsmw_node-sea.exe');
    await copyFile(built.path, executable);
    await copyFile(runtimeBundlePath(), join(projectDirectory, 'tsmw_runtime.mjs'));
    const bundle = await bundleTaskModule(tasksFixture('square.mjs'));
    moduleHash = bundle.hash;
    await writeFile(join(projectDirectory, 'tsmw_tasks.mjs'), bundle.code);
    // What the client puts in a slot for an app version file: a link file named by its open name.
    await writeFile(join(slot, runtimeOpenName), '<soft_link>../../projects/example.org_p/tsmw_runtime.mjs</soft_link>\n');
  }, 600_000);
  afterAll(async () => {
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  function run(args: string[]): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve) => {
      execFile('../../projects/example.org_p/tsmw_node-sea.exe', args, { cwd: slot, env: { PATH: '/usr/bin:/bin' } }, (error, _stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stderr });
      });
    });
  }

  it('runs a task through the runtime it finds by open name, in Node 24, and exits 0', async () => {
    await writeFile(join(slot, 'in'), encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: 'sea-1', taskName: 'square', moduleHash, attempt: 1, input: 12 }));
    const result = await run(['--input', 'in', '--output', 'out', '--tasks', '../../projects/example.org_p/tsmw_tasks.mjs']);
    expect(result.stderr).toContain('running by hand'); // no init_data.xml in this slot
    expect(result.code).toBe(0);
    const envelope = decodeResultEnvelope(await readFile(join(slot, 'out')));
    expect(envelope).toMatchObject({ taskId: 'sea-1', ok: true, output: 144 });
    expect(envelope.host?.runtime).toMatch(/^node 24\.21\.0; tsmw-runtime /);
  });

  it("passes the runtime's failure on: exit 1 and its one line", async () => {
    await writeFile(join(slot, 'in'), 'not an envelope');
    const result = await run(['--input', 'in', '--output', 'out2', '--tasks', '../../projects/example.org_p/tsmw_tasks.mjs']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tsmw-runtime: .*\n$/m);
  });

  it('fails loudly, one line, when the runtime is not in the slot', async () => {
    await rm(join(slot, runtimeOpenName));
    const result = await run(['--input', 'in']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tsmw launcher: cannot read tsmw-runtime\.mjs in .*slots\/0: ENOENT[^\n]*\n$/);
  });
});
