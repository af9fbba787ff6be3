import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { BoincTestServerError } from './boinc-test-server-error.js';
import { createBoincTestServer } from './boinc-test-server.js';
import type { BoincTestServer } from './boinc-test-server.js';
import { childNumber, childText, findChild, findChildren, parseXml } from './parse-xml.js';

let server: BoincTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(url: string, body: string | Buffer): Promise<string> {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(response.status).toBe(200);
  return response.text();
}

function reportRequest(resultName: string, outputName: string): string {
  // The recorded report, with the names of this test's job.
  return readFixture('sched_request_report.xml').replaceAll('demo_wu_7_0_r1484078256_0', outputName).replaceAll('demo_wu_7_0', resultName);
}

describe('createBoincTestServer', () => {
  it('serves the master page, hands out a queued job, serves its input, takes the upload and acknowledges the report', async () => {
    server = createBoincTestServer({ appName: 'nodeapp', versionNum: 101, nextRpcDelaySeconds: 5 });
    const url = await server.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/project\/$/);
    const job = server.addJob({
      name: 'job_1',
      commandLine: '--seven 7',
      inputFiles: [{ openName: 'in', data: '{"seven":7}' }],
      outputFiles: [{ openName: 'out', maxBytes: 1000 }],
    });
    expect(job.resultName).toBe('job_1_0');
    expect(server.jobState('job_1')).toBe('queued');

    const master = await (await fetch(url)).text();
    // The scheduler is announced the way the real project's master page does it.
    const schedulerLink = /<link rel="boinc_scheduler" href="([^"]+)">/;
    expect(schedulerLink.exec(readFixture('master_page.html'))?.[1]).toBe('http://127.0.0.1/test_cgi/cgi');
    expect(schedulerLink.exec(master)?.[1]).toBe(server.schedulerUrl);

    const reply = findChild(parseXml(await post(server.schedulerUrl, readFixture('sched_request_work_fetch.xml'))), 'scheduler_reply');
    if (!reply) throw new Error('no <scheduler_reply>');
    expect(server.jobState('job_1_0')).toBe('sent');
    expect(childNumber(reply, 'next_rpc_delay')).toBe(5);
    const [inputInfo, outputInfo] = findChildren(reply, 'file_info');
    const result = findChild(reply, 'result');
    expect(result && childText(result, 'platform')).toBe('x86_64-pc-linux-gnu');
    expect(result && childNumber(result, 'version_num')).toBe(101);
    const inputUrl = inputInfo && childText(inputInfo, 'url');
    if (!inputUrl) throw new Error('no input url');
    const downloaded = Buffer.from(await (await fetch(inputUrl)).arrayBuffer());
    expect(downloaded.toString()).toBe('{"seven":7}');
    expect(inputInfo && childText(inputInfo, 'md5_cksum')).toBe(createHash('md5').update(downloaded).digest('hex'));
    const ranged = await fetch(inputUrl, { headers: { range: 'bytes=2-' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('seven":7}');

    // A second work request gets nothing more.
    const empty = await post(server.schedulerUrl, readFixture('sched_request_work_fetch.xml'));
    expect(empty).not.toContain('<result>');

    const outputName = outputInfo && childText(outputInfo, 'name');
    expect(outputName).toBe(job.outputFileNames[0]);
    if (!outputName) throw new Error('no output name');
    const data = Buffer.from('{"sum":42}');
    const uploadReply = await post(
      server.uploadUrl,
      Buffer.concat([
        Buffer.from(
          `<data_server_request>\n<file_upload>\n<file_info>\n<name>${outputName}</name>\n<max_nbytes>1000</max_nbytes>\n</file_info>\n` +
            `<nbytes>${data.length}</nbytes>\n<md5_cksum>${createHash('md5').update(data).digest('hex')}</md5_cksum>\n<offset>0</offset>\n<data>\n`,
        ),
        data,
      ]),
    );
    expect(uploadReply).toContain('<status>0</status>');
    expect(server.readUpload('job_1')?.toString()).toBe('{"sum":42}');
    expect(server.readUpload(outputName)?.toString()).toBe('{"sum":42}');
    expect(server.uploads).toHaveLength(1);

    const waiting = server.waitForResults(['job_1'], { timeoutMs: 5000 });
    const ackReply = await post(server.schedulerUrl, reportRequest(job.resultName, outputName));
    const acknowledgement = findChild(findChild(parseXml(ackReply), 'scheduler_reply') ?? parseXml(''), 'result_ack');
    expect(acknowledgement && childText(acknowledgement, 'name')).toBe('job_1_0');
    const [reported] = await waiting;
    expect(reported).toMatchObject({ name: 'job_1_0', jobName: 'job_1', exitStatus: 0, outcome: 'success', stateName: 'files-uploaded' });
    expect(reported?.uploads.get(outputName)?.toString()).toBe('{"sum":42}');
    expect(reported?.stderrText).toContain('argv ["--seven","7"]');
    expect(server.reportedResult('job_1_0')).toBe(reported);
    expect(server.jobState('job_1')).toBe('reported');
    expect(server.schedulerRpcs.map((rpc) => rpc.sentJobs)).toEqual([['job_1'], [], []]);
  });

  it('acknowledges results it does not know, so the client stops reporting them', async () => {
    server = createBoincTestServer({ appName: 'nodeapp', versionNum: 101 });
    await server.start();
    const reply = await post(server.schedulerUrl, readFixture('sched_request_report.xml'));
    expect(reply).toContain('<result_ack>\n    <name>demo_wu_7_0</name>\n</result_ack>');
  });

  it('refuses bad jobs and times out with the job states named', async () => {
    server = createBoincTestServer({ appName: 'nodeapp', versionNum: 101 });
    expect(() => server?.url).toThrow(BoincTestServerError);
    await server.start();
    server.addJob({ name: 'a' });
    expect(() => server?.addJob({ name: 'a' })).toThrow(/already exists/);
    expect(() => server?.addJob({ name: 'b c' })).toThrow(BoincTestServerError);
    expect(() => server?.addJob({ name: 'd', outputFiles: [{ openName: 'out', maxBytes: 0 }] })).toThrow(/maxBytes/);
    const error: unknown = await server.waitForResults(['a'], { timeoutMs: 50 }).catch((caught: unknown) => caught);
    expect(BoincTestServerError.isInstance(error) && error.code).toBe('TSMW_BOINC_TEST_SERVER_TIMEOUT');
    expect(String(error)).toContain('a (queued)');
    const pending = server.waitForUpload('a', { timeoutMs: 5000 });
    await server.close();
    await expect(pending).rejects.toThrow(/closed/);
  });
});
