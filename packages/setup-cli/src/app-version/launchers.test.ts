import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledNodeLauncher, hostNodeLauncher } from './launchers.js';

let directory: string;

/** Runs a launcher as the BOINC client does: from a slot, by a relative path into the project directory. */
function launch(projectDirectory: string, launcher: string, args: string[], path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const slot = join(directory, 'slots', '0');
  const relative = `../../${join('projects', projectDirectory.split('/projects/')[1]!, launcher)}`;
  return new Promise((resolve) => {
    execFile(relative, args, { cwd: slot, env: { PATH: path } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-launcher-'));
  await mkdir(join(directory, 'slots', '0'), { recursive: true });
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function projectWith(name: string, files: Record<string, { text: string; mode: number }>): Promise<string> {
  const project = join(directory, 'projects', name);
  await mkdir(project, { recursive: true });
  for (const [file, { text, mode }] of Object.entries(files)) {
    await writeFile(join(project, file), text);
    await chmod(join(project, file), mode);
  }
  return project;
}

const runtime = "process.stdout.write(JSON.stringify(process.argv.slice(2))); process.exit(Number(process.argv[2] === 'fail') * 7);\n";

describe('the Linux/macOS launchers', () => {
  it('bundled: runs the app version\'s Node on the runtime with the client\'s arguments, and passes its exit status on', async () => {
    const node = `#!/bin/sh\nexec '${process.execPath}' "$@"\n`;
    const project = await projectWith('bundled', {
      'launch.sh': { text: bundledNodeLauncher('node-bin', 'runtime.mjs'), mode: 0o755 },
      'node-bin': { text: node, mode: 0o755 },
      'runtime.mjs': { text: runtime, mode: 0o644 },
    });
    const ok = await launch(project, 'launch.sh', ['--input', 'in'], '/usr/bin:/bin');
    expect(ok).toEqual({ code: 0, stdout: '["--input","in"]', stderr: '' });
    const failed = await launch(project, 'launch.sh', ['fail'], '/usr/bin:/bin');
    expect(failed.code).toBe(7);
  });

  it('bundled: fails loudly, one line, when its Node is missing', async () => {
    const project = await projectWith('bundled-broken', { 'launch.sh': { text: bundledNodeLauncher('node-bin', 'runtime.mjs'), mode: 0o755 }, 'runtime.mjs': { text: runtime, mode: 0o644 } });
    const result = await launch(project, 'launch.sh', [], '/usr/bin:/bin');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tsmw launcher: the Node\.js of this app version is missing or not executable: \.\.\/\.\.\/projects\/bundled-broken\/node-bin\n$/);
  });

  it('host: uses the node on PATH', async () => {
    const bin = join(directory, 'host-bin');
    await mkdir(bin, { recursive: true });
    await symlink(process.execPath, join(bin, 'node'));
    const project = await projectWith('host', { 'launch.sh': { text: hostNodeLauncher('runtime.mjs'), mode: 0o755 }, 'runtime.mjs': { text: runtime, mode: 0o644 } });
    expect(await launch(project, 'launch.sh', ['a', 'b'], `${bin}:/usr/bin:/bin`)).toEqual({ code: 0, stdout: '["a","b"]', stderr: '' });
  });

  it('host: fails loudly, one line, when no node is found', async () => {
    const project = await projectWith('host-none', { 'launch.sh': { text: hostNodeLauncher('runtime.mjs', [join(directory, 'nowhere')]), mode: 0o755 }, 'runtime.mjs': { text: runtime, mode: 0o644 } });
    // A PATH with the shell's tools (dirname) but no node.
    const tools = join(directory, 'tools');
    await mkdir(tools, { recursive: true });
    await symlink('/usr/bin/dirname', join(tools, 'dirname'));
    const result = await launch(project, 'launch.sh', [], tools);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`tsmw launcher: no Node.js on this host (not on PATH=${tools}, nor in ${join(directory, 'nowhere')}); this app version needs Node.js 18 or newer installed\n`);
  });

  it('host: refuses a node older than 18, in one line', async () => {
    const bin = join(directory, 'old-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'node'), '#!/bin/sh\necho 16\n');
    await chmod(join(bin, 'node'), 0o755);
    const project = await projectWith('host-old', { 'launch.sh': { text: hostNodeLauncher('runtime.mjs'), mode: 0o755 }, 'runtime.mjs': { text: runtime, mode: 0o644 } });
    const result = await launch(project, 'launch.sh', [], `${bin}:/usr/bin:/bin`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tsmw launcher: .*\/old-bin\/node is Node\.js 16; tsmw needs 18 or newer\n$/);
  });
});
