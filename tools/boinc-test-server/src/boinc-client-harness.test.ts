import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { createBoincClientHarness, parseBoinccmdTasks } from './boinc-client-harness.js';
import { BoincTestServerError } from './boinc-test-server-error.js';

describe('parseBoinccmdTasks', () => {
  it('reads the tasks boinccmd 7.20.5 lists while a task runs and after it is suspended', () => {
    const [running] = parseBoinccmdTasks(readFixture('boinccmd_get_tasks_running.txt'));
    expect(running).toMatchObject({
      name: 'cap_1_0',
      workunitName: 'cap_1',
      projectUrl: 'http://127.0.0.1:8081/project/',
      readyToReport: false,
      state: 'downloaded',
      schedulerState: 'scheduled',
      activeTaskState: 'EXECUTING',
      suspendedViaGui: false,
      slot: 0,
      pid: 8744,
      fractionDone: 0,
      currentCpuTime: 0,
      checkpointCpuTime: 0,
    });
    const [suspended] = parseBoinccmdTasks(readFixture('boinccmd_get_tasks_suspended.txt'));
    expect(suspended).toMatchObject({ activeTaskState: 'SUSPENDED', schedulerState: 'preempted', suspendedViaGui: true });
    expect(suspended?.fields['elapsed task time']).toBe('3.026624');
  });

  it('returns no tasks for an empty list', () => {
    expect(parseBoinccmdTasks('\n======== Tasks ========\n')).toEqual([]);
  });
});

describe('createBoincClientHarness', () => {
  it('writes the data directory the client needs before it attaches, and fails with a typed error without a client', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tsmw-harness-test-'));
    try {
      const harness = createBoincClientHarness({
        serverUrl: 'http://127.0.0.1:41407/proj/',
        appName: 'app',
        versionNum: 7,
        appFiles: [{ name: 'main.sh', data: '#!/bin/sh\n', mainProgram: true }, { name: 'lib.txt', data: 'x', openName: 'lib', copyFile: true }],
        dataDir,
        boincPath: join(dataDir, 'no-such-boinc'),
        startTimeoutMs: 1000,
      });
      await harness.prepare();
      const error: unknown = await harness.start().catch((caught: unknown) => caught);
      expect(BoincTestServerError.isInstance(error) && error.code).toBe('TSMW_BOINC_CLIENT_NOT_FOUND');
      const projectDir = join(dataDir, 'projects', '127.0.0.1_41407_proj');
      expect(harness.projectDir).toBe(projectDir);
      expect((await stat(join(projectDir, 'main.sh'))).mode & 0o777).toBe(0o755);
      expect((await stat(join(projectDir, 'lib.txt'))).mode & 0o777).toBe(0o644);
      const appInfo = await readFile(join(projectDir, 'app_info.xml'), 'utf8');
      expect(appInfo).toContain('<api_version>7.20.0</api_version>');
      expect(appInfo).toContain('<version_num>7</version_num>');
      expect(appInfo).toMatch(/<file_name>main.sh<\/file_name>\s*<main_program\/>/);
      expect(appInfo).toMatch(/<open_name>lib<\/open_name>\s*<copy_file\/>/);
      expect(await readFile(join(dataDir, 'account_127.0.0.1_41407_proj.xml'), 'utf8')).toContain('<master_url>http://127.0.0.1:41407/proj/</master_url>');
      expect(await readFile(join(dataDir, 'nvc_config.xml'), 'utf8')).toContain('<network_test_url>http://127.0.0.1:41407/</network_test_url>');
      expect(await readFile(join(dataDir, 'cc_config.xml'), 'utf8')).toContain('<report_results_immediately>1</report_results_immediately>');
      const preferences = await readFile(join(dataDir, 'global_prefs_override.xml'), 'utf8');
      for (const line of ['<suspend_cpu_usage>0<', '<run_if_user_active>1<', '<run_on_batteries>1<', '<max_ncpus_pct>100<', '<cpu_usage_limit>100<', '<work_buf_min_days>0<']) {
        expect(preferences).toContain(line);
      }
      expect((await readFile(join(dataDir, 'gui_rpc_auth.cfg'), 'utf8')).trim()).toBe(harness.password);
      await harness.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
