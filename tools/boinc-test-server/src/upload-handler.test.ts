import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { createUploadHandler } from './upload-handler.js';

function uploadBody(options: { name: string; data: Buffer; nbytes?: number; md5?: string; offset?: number; maxBytes?: number }): Buffer {
  const header = [
    '<data_server_request>',
    '    <core_client_major_version>7</core_client_major_version>',
    '    <core_client_minor_version>20</core_client_minor_version>',
    '    <core_client_release>5</core_client_release>',
    '<file_upload>',
    '<file_info>',
    `<name>${options.name}</name>`,
    '<xml_signature>',
    '</xml_signature>',
    `<max_nbytes>${options.maxBytes ?? 1_000_000}</max_nbytes>`,
    '</file_info>',
    `<nbytes>${options.nbytes ?? options.data.length}</nbytes>`,
    `<md5_cksum>${options.md5 ?? createHash('md5').update(options.data).digest('hex')}</md5_cksum>`,
    `<offset>${options.offset ?? 0}</offset>`,
    '<data>',
    '',
  ].join('\n');
  return Buffer.concat([Buffer.from(header), options.data]);
}

function sizeBody(name: string): Buffer {
  return Buffer.from(`<data_server_request>\n    <core_client_major_version>7</core_client_major_version>\n<get_file_size>${name}</get_file_size>\n</data_server_request>\n`);
}

const recordedName = 'demo_wu_8_proxy_0_r220194508_0';

describe('createUploadHandler', () => {
  it('reads the recorded upload of client 7.20.5 and answers in the recorded format', () => {
    const text = readFixture('fuh_exchange.txt');
    // The log follows the body with blank lines (and its content-length predates the renaming of
    // names in the fixture), so cut the body after the declared <nbytes> of data.
    const start = text.indexOf('<data_server_request>');
    const dataStart = text.indexOf('<data>\n', start) + '<data>\n'.length;
    const nbytes = Number(/<nbytes>(\d+)<\/nbytes>/.exec(text)?.[1]);
    expect(nbytes).toBe(61);
    const recorded = text.slice(start, dataStart + nbytes);
    const data = '{"wu":"demo_wu_8_proxy","args":[],"sum":42,"node":"v20.20.2"}';
    expect(recorded.endsWith(data)).toBe(true);

    const completed: string[] = [];
    const handler = createUploadHandler({
      expectedUpload: (name) => (name === recordedName ? { maxBytes: 1_000_000 } : undefined),
      onUploadComplete: (name) => completed.push(name),
    });
    // The renaming also changed the data, so the recorded checksum no longer matches it: the real
    // handler ignores <md5_cksum>, this double refuses the mismatch...
    const refused = handler.handle(Buffer.from(recorded));
    expect(refused).toMatchObject({ status: -1, command: 'file-upload', fileName: recordedName });
    expect(refused.message).toMatch(/MD5 mismatch/);
    // ...and accepts the same request with the checksum of the data it carries.
    const md5 = createHash('md5').update(data).digest('hex');
    const response = handler.handle(Buffer.from(recorded.replace(/<md5_cksum>[0-9a-f]+<\/md5_cksum>/, `<md5_cksum>${md5}</md5_cksum>`)));
    expect(response.status).toBe(0);
    expect(response.reply).toBe('<data_server_reply>\n    <status>0</status>\n</data_server_reply>\n');
    expect(completed).toEqual([recordedName]);
    expect(handler.readUpload(recordedName)?.toString()).toBe(data);
  });

  it('refuses an upload whose MD5 does not match, permanently, and keeps nothing', () => {
    const handler = createUploadHandler({ expectedUpload: () => ({ maxBytes: 1000 }) });
    const response = handler.handle(uploadBody({ name: 'out_0', data: Buffer.from('hello'), md5: '0'.repeat(32) }));
    expect(response.status).toBe(-1);
    expect(response.message).toMatch(/MD5 mismatch/);
    expect(response.reply).toContain('<status>-1</status>');
    expect(handler.readUpload('out_0')).toBeUndefined();
    expect(handler.receivedSize('out_0')).toBe(0);
  });

  it('refuses a file larger than max_nbytes, whether the server or the client says so', () => {
    const handler = createUploadHandler({ expectedUpload: () => ({ maxBytes: 4 }) });
    const overServerLimit = handler.handle(uploadBody({ name: 'out_0', data: Buffer.from('hello') }));
    expect(overServerLimit.status).toBe(-1);
    expect(overServerLimit.message).toMatch(/exceeds limit/);
    const generous = createUploadHandler({ expectedUpload: () => ({ maxBytes: 1000 }) });
    const overClientLimit = generous.handle(uploadBody({ name: 'out_0', data: Buffer.from('hello'), maxBytes: 2 }));
    expect(overClientLimit.status).toBe(-1);
  });

  it('refuses a file it never handed out and names with ..', () => {
    const handler = createUploadHandler({ expectedUpload: (name) => (name === 'known' ? { maxBytes: 100 } : undefined) });
    expect(handler.handle(uploadBody({ name: 'unknown', data: Buffer.from('x') })).status).toBe(-1);
    expect(handler.handle(uploadBody({ name: '../known', data: Buffer.from('x') })).status).toBe(-1);
    expect(handler.handle(sizeBody('../etc')).status).toBe(-1);
  });

  it('refuses data beyond nbytes and a request without a command', () => {
    const handler = createUploadHandler({ expectedUpload: () => ({ maxBytes: 100 }) });
    expect(handler.handle(uploadBody({ name: 'f', data: Buffer.from('abcdef'), nbytes: 3 })).status).toBe(-1);
    const none = handler.handle(Buffer.from('<data_server_request>\n</data_server_request>\n'));
    expect(none.status).toBe(1);
    expect(none.command).toBe('none');
  });

  it('reports the size of a partial upload and accepts the rest at that offset, binary-exact', () => {
    const handler = createUploadHandler({ expectedUpload: () => ({ maxBytes: 100_000 }) });
    const data = Buffer.from(Array.from({ length: 20_000 }, (_, index) => (index * 7919) % 256));
    const md5 = createHash('md5').update(data).digest('hex');
    expect(handler.handle(sizeBody('big')).reply).toContain('<file_size>0</file_size>');
    const first = handler.handle(uploadBody({ name: 'big', data: data.subarray(0, 12_345), nbytes: data.length, md5 }));
    expect(first.status).toBe(1);
    expect(handler.handle(sizeBody('big')).reply).toContain('<file_size>12345</file_size>');
    const beyond = handler.handle(uploadBody({ name: 'big', data: data.subarray(13_000), nbytes: data.length, md5, offset: 13_000 }));
    expect(beyond.status).toBe(1);
    const rest = handler.handle(uploadBody({ name: 'big', data: data.subarray(12_345), nbytes: data.length, md5, offset: 12_345 }));
    expect(rest.status).toBe(0);
    expect(rest.completed).toBe(true);
    expect(handler.readUpload('big')?.equals(data)).toBe(true);
    expect(handler.handle(sizeBody('big')).reply).toContain(`<file_size>${data.length}</file_size>`);
  });

  it('accepts an empty output', () => {
    const handler = createUploadHandler({ expectedUpload: () => ({ maxBytes: 10 }) });
    const response = handler.handle(uploadBody({ name: 'empty', data: Buffer.alloc(0) }));
    expect(response.status).toBe(0);
    expect(handler.readUpload('empty')?.length).toBe(0);
  });
});
