import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BoincTestServerError } from './boinc-test-server-error.js';
import { readAppVersionDirectory } from './read-app-version-directory.js';

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function versionDirectory(versionXml: string, files: Readonly<Record<string, number>>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'tsmw-app-version-'));
  directories.push(directory);
  await writeFile(join(directory, 'version.xml'), versionXml);
  for (const [name, mode] of Object.entries(files)) {
    await writeFile(join(directory, name), name);
    await chmod(join(directory, name), mode);
  }
  return directory;
}

describe('readAppVersionDirectory', () => {
  it("describes version.xml's files for a client's app_info.xml: main program, open names, copy_file, exec bits", async () => {
    const directory = await versionDirectory(
      [
        '<version>',
        '    <file>',
        '        <physical_name>launcher_1.sh</physical_name>',
        '        <main_program/>',
        '    </file>',
        '    <file>',
        '        <physical_name>runtime_1.mjs</physical_name>',
        '        <logical_name>runtime &amp; co.mjs</logical_name>',
        '        <gzip/>',
        '    </file>',
        '    <file>',
        '        <physical_name>tasks_1.mjs</physical_name>',
        '        <logical_name>tasks.mjs</logical_name>',
        '        <copy_file/>',
        '    </file>',
        '    <api_version>7.20.0</api_version>',
        '</version>',
      ].join('\n'),
      { 'launcher_1.sh': 0o755, 'runtime_1.mjs': 0o644, 'tasks_1.mjs': 0o600 },
    );
    expect(await readAppVersionDirectory(directory)).toEqual({
      apiVersion: '7.20.0',
      appFiles: [
        { name: 'launcher_1.sh', path: join(directory, 'launcher_1.sh'), mainProgram: true, executable: true },
        { name: 'runtime_1.mjs', path: join(directory, 'runtime_1.mjs'), mainProgram: false, executable: false, openName: 'runtime & co.mjs' },
        { name: 'tasks_1.mjs', path: join(directory, 'tasks_1.mjs'), mainProgram: false, executable: false, openName: 'tasks.mjs', copyFile: true },
      ],
    });
  });

  it('refuses a physical name that leaves the directory, and a file that is missing', async () => {
    const escaping = await versionDirectory('<version><file><physical_name>../secret</physical_name></file></version>', {});
    const error = await readAppVersionDirectory(escaping).catch((caught: unknown) => caught);
    expect(BoincTestServerError.isInstance(error) && error.code).toBe('TSMW_BOINC_TEST_XML_INVALID');
    expect((error as Error).message).toContain('"../secret"');
    const missing = await versionDirectory('<version><file><physical_name>gone.sh</physical_name><main_program/></file></version>', {});
    await expect(readAppVersionDirectory(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    // No <api_version>: none in the result, so that the harness keeps its default.
    const bare = await versionDirectory('<version><file><physical_name>run.sh</physical_name><main_program/></file></version>', { 'run.sh': 0o755 });
    expect(await readAppVersionDirectory(bare)).not.toHaveProperty('apiVersion');
    const other = await versionDirectory('<app_info/>', {});
    await expect(readAppVersionDirectory(other)).rejects.toMatchObject({ code: 'TSMW_BOINC_TEST_XML_INVALID' });
  });
});
