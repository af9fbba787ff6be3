import { describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { childNumber, childText, findChild, findChildren, parseXml } from './parse-xml.js';
import type { XmlElement } from './parse-xml.js';
import { renderSchedulerReply } from './scheduler-reply.js';
import type { SchedulerReplyOptions } from './scheduler-reply.js';

const options: SchedulerReplyOptions = {
  masterUrl: 'http://127.0.0.1:8081/project/',
  projectName: 'tsmw test project',
  appName: 'nodeapp',
  versionNum: 101,
  platform: 'x86_64-pc-linux-gnu',
  hostId: 1,
  requestDelaySeconds: 1,
  nextRpcDelaySeconds: 5,
  acknowledgedResults: ['demo_wu_6_0'],
  jobs: [
    {
      workunitName: 'demo_wu_7',
      resultName: 'demo_wu_7_0',
      commandLine: '--seven 7',
      inputFiles: [
        {
          physicalName: 'demo_in_7.json',
          openName: 'in',
          url: 'http://127.0.0.1:8081/project/download/demo_in_7.json',
          md5: 'ffeca3a477c3428f6d4d1e86c2b01ec4',
          nbytes: 18,
          copyFile: false,
        },
      ],
      outputFiles: [
        {
          physicalName: 'demo_wu_7_0_r1484078256_0',
          openName: 'out',
          maxBytes: 1_000_000,
          uploadUrl: 'http://127.0.0.1:8081/project_cgi/file_upload_handler',
          copyFile: true,
        },
      ],
      reportDeadline: 1_795_554_366,
      rscFpopsEstimate: 1e9,
      rscFpopsBound: 1e12,
      rscMemoryBound: 5e8,
      rscDiskBound: 1e9,
    },
  ],
};

function tagNames(element: XmlElement | undefined): Set<string> {
  return new Set((element?.children ?? []).flatMap((node) => (typeof node === 'string' ? [] : [node.name])));
}

describe('renderSchedulerReply', () => {
  const reply = findChild(parseXml(renderSchedulerReply(options)), 'scheduler_reply');
  const recorded = findChild(parseXml(readFixture('sched_reply_with_work.xml')), 'scheduler_reply');

  it('uses only elements the real scheduler sends, in the same places', () => {
    if (!reply || !recorded) throw new Error('missing <scheduler_reply>');
    const allowedTopLevel = new Set([...tagNames(recorded), 'next_rpc_delay', 'hostid', 'result_ack']);
    for (const name of tagNames(reply)) expect(allowedTopLevel).toContain(name);
    const recordedFileInfos = findChildren(recorded, 'file_info');
    const allowedFileInfo = new Set(recordedFileInfos.flatMap((element) => [...tagNames(element)]));
    for (const fileInfo of findChildren(reply, 'file_info')) {
      for (const name of tagNames(fileInfo)) expect(allowedFileInfo).toContain(name);
    }
    const allowedWorkunit = tagNames(findChild(recorded, 'workunit'));
    for (const name of tagNames(findChild(reply, 'workunit'))) expect(allowedWorkunit).toContain(name);
    const allowedResult = tagNames(findChild(recorded, 'result'));
    for (const name of tagNames(findChild(reply, 'result'))) expect(allowedResult).toContain(name);
  });

  it('carries what client 7.20.5 needs to accept and run the job', () => {
    if (!reply) throw new Error('missing <scheduler_reply>');
    const [input, output] = findChildren(reply, 'file_info');
    expect(input && childText(input, 'md5_cksum')).toBe('ffeca3a477c3428f6d4d1e86c2b01ec4');
    expect(input && childNumber(input, 'nbytes')).toBe(18);
    expect(output && childNumber(output, 'max_nbytes')).toBe(1_000_000);
    expect(output && childText(output, 'url')).toContain('file_upload_handler');
    expect(output && findChild(output, 'generated_locally')).toBeDefined();
    const workunit = findChild(reply, 'workunit');
    expect(workunit && childText(workunit, 'command_line')).toBe('--seven 7');
    expect(workunit && childText(workunit, 'app_name')).toBe('nodeapp');
    const result = findChild(reply, 'result');
    expect(result && childNumber(result, 'version_num')).toBe(101);
    expect(result && childText(result, 'wu_name')).toBe('demo_wu_7');
    const outputRef = result && findChild(result, 'file_ref');
    expect(outputRef && childText(outputRef, 'open_name')).toBe('out');
    expect(outputRef && findChild(outputRef, 'copy_file')).toBeDefined();
    expect(childNumber(reply, 'next_rpc_delay')).toBe(5);
    const acknowledgement = findChild(reply, 'result_ack');
    expect(acknowledgement && childText(acknowledgement, 'name')).toBe('demo_wu_6_0');
  });

  it('leaves out <app> and <next_rpc_delay> when there is nothing to send', () => {
    const text = renderSchedulerReply({ ...options, jobs: [], acknowledgedResults: [], nextRpcDelaySeconds: 0 });
    expect(text).not.toContain('<app>');
    expect(text).not.toContain('next_rpc_delay');
    expect(text).toContain('<request_delay>1</request_delay>');
  });
});
