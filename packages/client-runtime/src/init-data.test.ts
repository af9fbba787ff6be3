import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { ClientRuntimeError } from './client-runtime-error.js';
import { maxInitDataBytes, parseInitData, readInitData, readInitDataSync } from './init-data.js';

describe('parseInitData', () => {
  it('reads the init_data.xml a real client 7.20.5 wrote for an app declaring api_version', () => {
    const data = parseInitData(readFixture('init_data.xml').toString('utf8'));
    expect(data).toMatchObject({
      clientVersion: '7.20.5',
      appName: 'sleepapp',
      appVersion: 100,
      workunitName: 'cap_1',
      resultName: 'cap_1_0',
      projectDir: '/var/lib/boinc-test/client/projects/127.0.0.1_8081_project',
      boincDir: '/var/lib/boinc-test/client',
      slot: 0,
      clientPid: 8430,
      shmKey: -1,
      hostId: 1,
      userName: 'tester',
      workunitCpuTime: 0,
      startingElapsedTime: 0,
      checkpointPeriod: 60,
      fractionDoneStart: 0,
      fractionDoneEnd: 1,
      fpopsEstimate: 1e9,
      fpopsBound: 1e12,
      memoryBound: 5e8,
      diskBound: 1e9,
      computationDeadline: 1_795_664_866,
      cpuCount: 1,
    });
    expect(data.hostInfo).toMatchObject({ processorCount: 1, processorVendor: 'AuthenticAMD', osName: 'Linux Debian', ipAddress: '127.0.0.1' });
    expect(data.hostInfo?.processorFeatures).toContain('sse2');
    expect(data.hostInfo?.memoryBytes).toBeGreaterThan(1e9);
  });

  it('tolerates missing fields and gives BOINC defaults', () => {
    const data = parseInitData('<app_init_data>\n<wu_name>w &amp; u</wu_name>\n<client_pid>0</client_pid>\n</app_init_data>\n');
    expect(data.workunitName).toBe('w & u');
    expect(data.resultName).toBeUndefined();
    expect(data.clientPid).toBeUndefined();
    expect(data.fractionDoneStart).toBe(0);
    expect(data.fractionDoneEnd).toBe(1);
    expect(data.workunitCpuTime).toBe(0);
    expect(data.hostInfo).toBeUndefined();
  });

  it('keeps project preferences opaque, so their markup cannot break the file', () => {
    const data = parseInitData('<app_init_data><project_preferences><br><b>x</project_preferences><slot>3</slot></app_init_data>');
    expect(data.slot).toBe(3);
  });

  it('refuses broken XML with a typed error', () => {
    for (const text of [
      '<app_init_data><wu_name>x</result_name></app_init_data>',
      '<app_init_data><wu_name>x</wu_name>',
      '<app_init_data><wu_name x</app_init_data>',
      '<other/>',
      '',
    ]) {
      let caught: unknown;
      try {
        parseInitData(text);
      } catch (error) {
        caught = error;
      }
      expect(ClientRuntimeError.isInstance(caught) && caught.code, text).toBe('TSMW_BOINC_INIT_DATA_INVALID');
    }
  });

  it('reads the file from a slot, and fails typed when it is absent', async () => {
    const slotDir = await mkdtemp(join(tmpdir(), 'tsmw-slot-'));
    try {
      await expect(readInitData(slotDir)).rejects.toMatchObject({ code: 'TSMW_BOINC_INIT_DATA_INVALID' });
      await writeFile(join(slotDir, 'init_data.xml'), '<app_init_data><result_name>r_0</result_name></app_init_data>');
      expect((await readInitData(slotDir)).resultName).toBe('r_0');
      expect(readInitDataSync(slotDir).resultName).toBe('r_0');
    } finally {
      await rm(slotDir, { recursive: true, force: true });
    }
  });

  it('refuses a file over 4 MiB unread, and an oversized text, as TSMW_BOINC_INIT_DATA_TOO_LARGE', async () => {
    const slotDir = await mkdtemp(join(tmpdir(), 'tsmw-slot-'));
    try {
      // 50 MB of unclosed elements: what once ran the runtime out of memory.
      await writeFile(join(slotDir, 'init_data.xml'), '<a>'.repeat(50 * 1024 * 1024 / 3));
      expect(() => readInitDataSync(slotDir)).toThrow(expect.objectContaining({ code: 'TSMW_BOINC_INIT_DATA_TOO_LARGE', message: expect.stringContaining('over the 4194304 bytes (4 MiB)') }));
      expect(() => parseInitData(' '.repeat(maxInitDataBytes + 1))).toThrow(expect.objectContaining({ code: 'TSMW_BOINC_INIT_DATA_TOO_LARGE' }));
    } finally {
      await rm(slotDir, { recursive: true, force: true });
    }
  });

  it('reads up to the cap: 4 MiB of unclosed or deep elements is refused as invalid, at the nesting limit', () => {
    const unclosed = `<app_init_data>${'<a>'.repeat(Math.floor((maxInitDataBytes - 20) / 3))}`;
    expect(() => parseInitData(unclosed)).toThrow(expect.objectContaining({ code: 'TSMW_BOINC_INIT_DATA_INVALID' }));
    const deep = `<app_init_data>${'<a>'.repeat(65)}${'</a>'.repeat(65)}</app_init_data>`;
    expect(() => parseInitData(deep)).toThrow(expect.objectContaining({ code: 'TSMW_BOINC_INIT_DATA_INVALID', message: expect.stringContaining('nested') }));
    const wide = `<app_init_data>${'<a>1</a>'.repeat(Math.floor((maxInitDataBytes - 64) / 8))}<slot>4</slot></app_init_data>`;
    expect(parseInitData(wide).slot).toBe(4);
  });

  it('refuses what is not a regular file (a FIFO would block the read forever)', async () => {
    const slotDir = await mkdtemp(join(tmpdir(), 'tsmw-slot-'));
    try {
      execFileSync('mkfifo', [join(slotDir, 'init_data.xml')]);
      expect(() => readInitDataSync(slotDir)).toThrow(expect.objectContaining({ code: 'TSMW_BOINC_INIT_DATA_INVALID', message: expect.stringContaining('is not a regular file') }));
      await rm(join(slotDir, 'init_data.xml'));
      await writeFile(join(slotDir, 'init_data.xml'), '<app_init_data><slot>1</slot></app_init_data>');
      await rm(join(slotDir, 'init_data.xml'));
      await expect(readInitData(slotDir)).rejects.toMatchObject({ code: 'TSMW_BOINC_INIT_DATA_INVALID', message: expect.stringContaining('ENOENT') });
    } finally {
      await rm(slotDir, { recursive: true, force: true });
    }
  });

  it('refuses a DOCTYPE (no entity expansion) and names where broken XML breaks', () => {
    expect(() => parseInitData('<!DOCTYPE x [<!ENTITY a "aaaa">]><app_init_data><wu_name>&a;</wu_name></app_init_data>')).toThrow(/DOCTYPE/);
    expect(() => parseInitData('<app_init_data>\n<wu_name>x</wu_name>\n<slot>1</slo>\n</app_init_data>')).toThrow(/line 3/);
  });
});
