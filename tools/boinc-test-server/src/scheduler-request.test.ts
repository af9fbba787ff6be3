import { describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { parseSchedulerRequest, SchedulerRequestParseError } from './scheduler-request.js';

describe('parseSchedulerRequest', () => {
  it('reads the recorded work-fetch request of client 7.20.5', () => {
    const request = parseSchedulerRequest(readFixture('sched_request_work_fetch.xml'));
    expect(request).toMatchObject({
      hostId: 1,
      rpcSequenceNumber: 21,
      clientVersion: '7.20.5',
      platformName: 'x86_64-pc-linux-gnu',
      workRequestSeconds: 360,
      cpuRequestSeconds: 360,
      cpuRequestInstances: 2,
      wantsWork: true,
      results: [],
      otherResults: [],
    });
    expect(request.appVersions).toEqual([{ appName: 'nodeapp', versionNum: 100, platform: 'x86_64-pc-linux-gnu' }]);
  });

  it('reads a reported result with its stderr_out, whose CDATA holds XML-looking text', () => {
    const request = parseSchedulerRequest(readFixture('sched_request_report.xml'));
    expect(request.results).toHaveLength(1);
    const [result] = request.results;
    expect(result).toMatchObject({
      name: 'demo_wu_7_0',
      exitStatus: 0,
      state: 5,
      stateName: 'files-uploaded',
      outcome: 'success',
      finalCpuTime: 0,
      versionNum: 101,
      platform: 'x86_64-pc-linux-gnu',
      outputFiles: [{ name: 'demo_wu_7_0_r1484078256_0', nbytes: 67, md5: '9079c39c494f9707122b73c5304cfe04' }],
    });
    expect(result?.stderrOut).toContain('<core_client_version>7.20.5</core_client_version>');
    expect(result?.stderrOut).toContain('<![CDATA[');
    expect(result?.stderrText.startsWith('cwd /var/lib/boinc-test/client/slots/0 argv ["--seven","7"]')).toBe(true);
    expect(result?.stderrText).toContain('<result_name>demo_wu_7_0</result_name>');
    // The <result_name> inside the CDATA must not be taken for a second result.
    expect(request.results.map((reported) => reported.name)).toEqual(['demo_wu_7_0']);
  });

  it('derives the outcome from the client state and exit status', () => {
    const body = (state: number, exitStatus: number): string =>
      `<scheduler_request><result><name>r</name><state>${state}</state><exit_status>${exitStatus}</exit_status></result></scheduler_request>`;
    expect(parseSchedulerRequest(body(3, 1)).results[0]?.outcome).toBe('client-error');
    expect(parseSchedulerRequest(body(5, 0)).results[0]?.outcome).toBe('success');
    expect(parseSchedulerRequest(body(6, -221)).results[0]?.outcome).toBe('aborted');
    expect(parseSchedulerRequest(body(3, 1)).results[0]?.stateName).toBe('compute-error');
  });

  it('refuses a body without <scheduler_request> with a typed error', () => {
    expect(() => parseSchedulerRequest('<html>oops</html>')).toThrow(SchedulerRequestParseError);
  });
});
