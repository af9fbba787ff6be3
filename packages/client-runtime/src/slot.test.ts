import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientRuntimeError } from './client-runtime-error.js';
import { resolveLogicalName, resolveSlotFile, writeFileAtomic, writeFileAtomicSync } from './slot.js';

let boincDir: string;
let slotDir: string;
let projectDir: string;

beforeEach(async () => {
  boincDir = await mkdtemp(join(tmpdir(), 'tsmw-boinc-'));
  slotDir = join(boincDir, 'slots', '0');
  projectDir = join(boincDir, 'projects', '127.0.0.1_8081_project');
  await mkdir(slotDir, { recursive: true });
  await mkdir(projectDir, { recursive: true });
});
afterEach(async () => {
  await rm(boincDir, { recursive: true, force: true });
});

function expectEscape(run: () => unknown): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(ClientRuntimeError.isInstance(caught) && caught.code).toBe('TSMW_BOINC_SLOT_PATH_ESCAPE');
}

describe('resolveSlotFile', () => {
  it('follows a <soft_link> file, as the client writes it, relative to the slot', async () => {
    await writeFile(join(projectDir, 'job_in'), 'input');
    await writeFile(join(slotDir, 'in'), '<soft_link>../../projects/127.0.0.1_8081_project/job_in</soft_link>\n');
    expect(resolveSlotFile('in', { slotDir })).toEqual({ logicalName: 'in', path: join(projectDir, 'job_in'), kind: 'link-file' });
    // An output named by a link file need not exist yet.
    await writeFile(join(slotDir, 'out'), '<soft_link>../../projects/127.0.0.1_8081_project/job_0_r1_0</soft_link>\n');
    expect(resolveLogicalName('out', { slotDir })).toBe(join(projectDir, 'job_0_r1_0'));
  });

  it('takes a copy (copy_file) or a file without the tag for itself, and a missing name as the slot path', async () => {
    await writeFile(join(slotDir, 'copied'), 'data that merely mentions <soft_link> later\n');
    expect(resolveSlotFile('copied', { slotDir })).toMatchObject({ path: join(slotDir, 'copied'), kind: 'copy' });
    await writeFile(join(slotDir, 'big'), Buffer.alloc(10_000, 0x3c));
    expect(resolveSlotFile('big', { slotDir }).kind).toBe('copy');
    expect(resolveSlotFile('not_yet', { slotDir })).toMatchObject({ path: join(slotDir, 'not_yet'), kind: 'absent' });
  });

  it('follows a real symlink inside the data directory', async () => {
    await writeFile(join(projectDir, 'target'), 'x');
    await symlink(join(projectDir, 'target'), join(slotDir, 'linked'));
    expect(resolveSlotFile('linked', { slotDir })).toMatchObject({ kind: 'symlink' });
    expect(await readFile(resolveLogicalName('linked', { slotDir }), 'utf8')).toBe('x');
  });

  it('refuses every way out of the BOINC data directory', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'tsmw-outside-'));
    try {
      await writeFile(join(outside, 'secret'), 's');
      await writeFile(join(slotDir, 'up'), '<soft_link>../../../outside</soft_link>\n');
      expectEscape(() => resolveLogicalName('up', { slotDir }));
      await writeFile(join(slotDir, 'absolute'), `<soft_link>${join(outside, 'secret')}</soft_link>\n`);
      expectEscape(() => resolveLogicalName('absolute', { slotDir }));
      await symlink(join(outside, 'secret'), join(slotDir, 'symlinked'));
      expectEscape(() => resolveLogicalName('symlinked', { slotDir }));
      // A link file into a directory that is itself a symlink to the outside.
      await symlink(outside, join(projectDir, 'escape_dir'));
      await writeFile(join(slotDir, 'sneaky'), '<soft_link>../../projects/127.0.0.1_8081_project/escape_dir/secret</soft_link>\n');
      expectEscape(() => resolveLogicalName('sneaky', { slotDir }));
      await writeFile(join(slotDir, 'sneaky_new'), '<soft_link>../../projects/127.0.0.1_8081_project/escape_dir/new_file</soft_link>\n');
      expectEscape(() => resolveLogicalName('sneaky_new', { slotDir }));
      expectEscape(() => resolveLogicalName('../../../etc/passwd', { slotDir }));
      // A narrower root may be given.
      await writeFile(join(slotDir, 'to_project'), '<soft_link>../../projects/127.0.0.1_8081_project/x</soft_link>\n');
      expectEscape(() => resolveLogicalName('to_project', { slotDir, boincDir: slotDir }));
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no temporary file behind', async () => {
    const path = join(slotDir, 'out');
    await writeFile(path, 'old contents');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    writeFileAtomicSync(path, 'text', { fsync: false });
    expect(await readFile(path, 'utf8')).toBe('text');
    expect(await readdir(slotDir)).toEqual(['out']);
  });

  it('fails without touching the target when the directory is missing', async () => {
    expect(() => writeFileAtomicSync(join(slotDir, 'missing', 'out'), 'x')).toThrow();
  });
});

describe('writeFileAtomicSync writes only regular files', () => {
  it('refuses a named pipe and a directory, and leaves them as they were', async () => {
    const { execFileSync } = await import('node:child_process');
    const { lstatSync } = await import('node:fs');
    execFileSync('mkfifo', [join(slotDir, 'pipe')]);
    await mkdir(join(slotDir, 'folder'));
    for (const [name, kind] of [['pipe', 'a named pipe'], ['folder', 'a directory']] as const) {
      expect(() => writeFileAtomicSync(join(slotDir, name), 'x')).toThrow(expect.objectContaining({ code: 'TSMW_BOINC_NOT_A_REGULAR_FILE', message: expect.stringContaining(`is ${kind}, not a regular file`) }));
    }
    expect(lstatSync(join(slotDir, 'pipe')).isFIFO()).toBe(true);
    expect(lstatSync(join(slotDir, 'folder')).isDirectory()).toBe(true);
    expect((await readdir(slotDir)).sort()).toEqual(['folder', 'pipe']);
  });

  it('follows a symbolic link: the file it names is replaced, the link stays a link', async () => {
    const { lstatSync } = await import('node:fs');
    await writeFile(join(projectDir, 'real'), 'old');
    await symlink(join(projectDir, 'real'), join(slotDir, 'link'));
    writeFileAtomicSync(join(slotDir, 'link'), 'new');
    expect(lstatSync(join(slotDir, 'link')).isSymbolicLink()).toBe(true);
    expect(await readFile(join(projectDir, 'real'), 'utf8')).toBe('new');
  });
});
