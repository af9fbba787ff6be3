import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { createSubmitRpcClient, type SubmitRpcClient } from '@tsmw/transport-boinc';
import { readFixture } from '../../test/read-fixture.js';
import { boincError, boincReply, startScriptedHttpServer, type ScriptedAnswer, type ScriptedHttpServer, type SeenRequest } from '../../test/scripted-http-server.js';

const authenticator = '00000000000000000000000000000000';
const parser = new XMLParser({ parseTagValue: false, trimValues: false, isArray: () => true, ignoreAttributes: true, htmlEntities: true });
const md5 = (data: Uint8Array | string) => createHash('md5').update(data).digest('hex');

/** The request element a handler got: `{ name: [values] }`. */
function requestOf(seen: SeenRequest): { operation: string; fields: Record<string, unknown[]> } {
  const tree = parser.parse(seen.requestXml ?? '') as Record<string, [Record<string, unknown[]>]>;
  const [operation] = Object.keys(tree);
  return { operation: operation ?? '', fields: tree[operation ?? '']?.[0] ?? {} };
}

/**
 * A small stand-in for BOINC's handlers, enough for the client's flows: batches by name and id,
 * job files on "disk", submit_batch creating jobs. Replies in BOINC's formats.
 */
function createBoincLikeAnswer() {
  const batches = new Map<number, { name: string; app: string; state: number; jobs: string[] }>();
  const files = new Map<string, Uint8Array>();
  const jobFiles = new Set<string>();
  let nextBatchId = 1;
  const answer = async (seen: SeenRequest): Promise<ScriptedAnswer> => {
    if (seen.path.endsWith('/job_file.php')) {
      const { operation, fields } = requestOf(seen);
      const names = (fields['phys_name'] ?? []) as string[];
      if (operation === 'query_files') {
        const absent = names.flatMap((name, index) => (files.has(name) ? [] : [`<file>${index}</file>`]));
        for (const name of names) if (files.has(name)) jobFiles.add(name);
        return { body: boincReply('query_files', `<absent_files>\n${absent.join('\n')}\n</absent_files>`) };
      }
      const parts = [...(seen.form?.entries() ?? [])].filter(([name]) => name !== 'request');
      if (parts.length !== names.length) return { body: boincError('upload_files', -1, `# of uploaded files (${parts.length}) doesn't agree with request (${names.length})`) };
      for (const [index, [, value]] of parts.entries()) {
        const name = names[index] ?? '';
        if (jobFiles.has(name)) return { body: boincError('upload_files', -1, `BoincJobFile::insert(${name}) failed: Duplicate entry`) };
        files.set(name, new Uint8Array(await (value as Blob).arrayBuffer()));
        jobFiles.add(name);
      }
      return { body: boincReply('upload_files', '<success/>') };
    }
    const { operation, fields } = requestOf(seen);
    const text = (name: string) => (fields[name]?.[0] as string | undefined) ?? '';
    switch (operation) {
      case 'ping':
        return { body: boincReply('ping', '<success>1</success>') };
      case 'create_batch': {
        const id = nextBatchId++;
        batches.set(id, { name: text('batch_name') || `user:${text('app_name')}:date`, app: text('app_name'), state: 0, jobs: [] });
        return { body: boincReply('create_batch', `<batch_id>${id}</batch_id>`) };
      }
      case 'query_batch': {
        const byName = [...batches.entries()].find(([, batch]) => batch.name === text('batch_name'));
        const entry = text('batch_id') !== '' ? ([Number(text('batch_id')), batches.get(Number(text('batch_id')))] as const) : byName;
        if (entry === undefined || entry[1] === undefined) return { body: boincError('query_batch', -1, 'no such batch') };
        const [id, batch] = entry;
        const jobs = batch.jobs.map((job, index) => `        <job>\n        <id>${100 + index}</id>\n        <name>${job}</name>\n        <canonical_instance_id>0</canonical_instance_id>\n        </job>`);
        return {
          body: `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<query_batch>\n<id>${id}</id><njobs>${batch.jobs.length}</njobs><fraction_done>0</fraction_done><state>${batch.state}</state><name>${batch.name}</name><app_name>${batch.app}</app_name>\n${jobs.join('\n')}\n</query_batch>\n`,
        };
      }
      case 'submit_batch': {
        const batchFields = (fields['batch'] as Record<string, unknown[]>[])[0] ?? {};
        const batchIdText = (batchFields['batch_id']?.[0] as string | undefined) ?? '';
        let id = Number(batchIdText);
        if (batchIdText === '') {
          id = nextBatchId++;
          batches.set(id, { name: (batchFields['batch_name']?.[0] as string | undefined) ?? 'user:app:date', app: (batchFields['app_name']?.[0] as string) ?? '', state: 0, jobs: [] });
        }
        const batch = batches.get(id);
        if (batch === undefined) return { body: boincError('submit_batch', -1, `no batch ${id}`) };
        if (batch.state !== 0) return { body: boincError('submit_batch', -1, 'batch not in init state') };
        for (const job of (batchFields['job'] ?? []) as Record<string, unknown[]>[]) {
          for (const file of (job['input_file'] ?? []) as Record<string, string[]>[]) {
            const source = file['source']?.[0] ?? '';
            if (file['mode']?.[0] === 'inline') files.set(`jf_${md5(source)}`, new TextEncoder().encode(source));
            else if (file['mode']?.[0] === 'local_staged' && !files.has(source)) return { body: boincError('submit_batch', -1, `create_work failed: file ${source} missing`) };
          }
          batch.jobs.push(String(job['name']?.[0] ?? ''));
        }
        batch.state = 1;
        return { body: boincReply('submit_batch', `<batch_id>${id}</batch_id>`) };
      }
      default:
        return { body: boincError(operation, -1, 'bad command') };
    }
  };
  return { answer, batches, files };
}

let server: ScriptedHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function clientFor(answer: (request: SeenRequest, index: number) => ScriptedAnswer | Promise<ScriptedAnswer>, options: Partial<Parameters<typeof createSubmitRpcClient>[0]> = {}): Promise<SubmitRpcClient> {
  server = await startScriptedHttpServer(answer);
  return createSubmitRpcClient({ url: server.url, authenticator, backoff: { initialMs: 1, maxMs: 4 }, ...options });
}

describe('createSubmitRpcClient: the recorded exchanges through HTTP', () => {
  it('ping, query_batch and submit_batch send the recorded requests and read the recorded replies', async () => {
    const replies: Record<string, string> = {
      ping: readFixture('ping_response.xml'),
      query_batch: readFixture('query_batch_response.xml'),
      submit_batch: readFixture('submit_batch_response.xml'),
    };
    const client = await clientFor((seen) => ({ body: replies[requestOf(seen).operation] ?? '' }));
    await client.ping();
    const batch = await client.queryBatch({ batchId: 3 }, { jobDetails: true });
    expect(batch.jobs).toEqual([{ id: 10, name: 'demo_rpc_job_2', canonicalInstanceId: 9, status: 'done', cpuTime: 0 }]);
    // No name, no id, no uploads: one request, as recorded (the recording named its batch; this one lets BOINC name it).
    const submitted = await client.submitBatch({
      appName: 'nodeapp',
      jobs: [{ name: 'demo_rpc_job_2', rscFpopsEst: 1e9, commandLine: '--gamma 3', inputFiles: [{ kind: 'bytes', data: new TextEncoder().encode('{"numbers":[10,20,30]}') }] }],
    });
    expect(submitted).toEqual({ batchId: 3, uploadedFiles: [], presentFiles: [], inlineFiles: 1 });
    const seen = server?.requests ?? [];
    expect(seen.map((request) => [request.method, request.path, request.headers['content-type']])).toEqual([
      ['POST', '/proj/submit_rpc_handler.php', 'application/x-www-form-urlencoded;charset=UTF-8'],
      ['POST', '/proj/submit_rpc_handler.php', 'application/x-www-form-urlencoded;charset=UTF-8'],
      ['POST', '/proj/submit_rpc_handler.php', 'application/x-www-form-urlencoded;charset=UTF-8'],
    ]);
    const recorded = (name: string) => (parser.parse(readFixture(name)) as Record<string, unknown>);
    const sent = (index: number) => parser.parse(seen[index]?.requestXml ?? '') as Record<string, unknown>;
    const strip = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'string' ? inner.trim() : inner)));
    expect(strip(sent(0))).toEqual(strip(recorded('ping_request.xml')));
    expect(strip(sent(1))).toEqual(strip(recorded('query_batch_request.xml')));
    const sentJob = (sent(2)['submit_batch'] as [{ batch: [{ job: unknown[] }] }])[0].batch[0].job;
    const recordedJob = (recorded('submit_batch_request.xml')['submit_batch'] as [{ batch: [{ job: [{ rsc_fpops_est: string[] }] }] }])[0].batch[0].job;
    expect(strip(sentJob)).toEqual(strip([{ ...recordedJob[0], rsc_fpops_est: ['1000000000'] }]));
  });

  it('adds the trailing slash to the project URL', async () => {
    server = await startScriptedHttpServer(() => ({ body: readFixture('ping_response.xml') }));
    const client = createSubmitRpcClient({ url: server.url.replace(/\/$/, ''), authenticator });
    expect(client.url).toBe(server.url);
    await client.ping();
    expect(server.requests[0]?.path).toBe('/proj/submit_rpc_handler.php');
  });
});

describe('submitBatch moves each input file the right way, and nothing twice', () => {
  it('small text inline; binary, empty and large content uploaded once as jf_<md5>; a named batch created first', async () => {
    const boinc = createBoincLikeAnswer();
    const client = await clientFor(boinc.answer, { inlineMaxBytes: 64 });
    const shared = new Uint8Array(200).fill(7);
    const binary = new Uint8Array([0, 1, 2, 255]);
    const result = await client.submitBatch({
      appName: 'app',
      batchName: 'batch.one',
      jobs: [
        { name: 'job_0', inputFiles: [{ kind: 'bytes', data: new TextEncoder().encode('{"n":0}\r\n') }, { kind: 'bytes', data: shared }] },
        { name: 'job_1', inputFiles: [{ kind: 'bytes', data: binary }, { kind: 'bytes', data: shared }] },
        { name: 'job_2', inputFiles: [{ kind: 'bytes', data: new Uint8Array(0) }, { kind: 'bytes', data: new TextEncoder().encode('forced'), inline: false }] },
      ],
    });
    const sharedName = `jf_${md5(shared)}`;
    expect(result.batchId).toBe(1);
    expect(result.inlineFiles).toBe(1);
    expect([...result.uploadedFiles].sort()).toEqual([sharedName, `jf_${md5(binary)}`, `jf_${md5(new Uint8Array(0))}`, `jf_${md5('forced')}`].sort());
    expect(boinc.files.get(sharedName)).toEqual(shared);
    expect(boinc.files.get(`jf_${md5(binary)}`)).toEqual(binary);
    // The inline content reached the "server" byte for byte (carriage return included).
    expect(boinc.files.get(`jf_${md5('{"n":0}\r\n')}`)).toEqual(new TextEncoder().encode('{"n":0}\r\n'));
    const operations = server?.requests.map((request) => requestOf(request).operation);
    expect(operations).toEqual(['query_batch', 'create_batch', 'query_files', 'upload_files', 'submit_batch']);
    // The multipart upload: the request XML first, then file_0, file_1... named by physical name.
    const upload = server?.requests[3];
    expect(upload?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const parts = [...(upload?.form?.entries() ?? [])];
    expect(parts.map(([name]) => name)).toEqual(['request', 'file_0', 'file_1', 'file_2', 'file_3']);
    const partNames = parts.slice(1).map(([, value]) => (value as File).name);
    expect(requestOf(upload as SeenRequest).fields['phys_name']).toEqual(partNames);
    expect(requestOf(upload as SeenRequest).fields['batch_id']).toEqual(['1']);
    // submit_batch names the files by physical name, local_staged, in job order.
    const submitted = requestOf(server?.requests[4] as SeenRequest).fields['batch'] as [{ batch_id: string[]; job: { input_file: Record<string, string[]>[] }[] }];
    expect(submitted[0].batch_id).toEqual(['1']);
    expect(submitted[0].job[1]?.input_file.map((file) => [file['mode']?.[0], file['source']?.[0]])).toEqual([
      ['local_staged', `jf_${md5(binary)}`],
      ['local_staged', sharedName],
    ]);
  });

  it('a file the server already has is not uploaded again; a batch left in init is reused', async () => {
    const boinc = createBoincLikeAnswer();
    const client = await clientFor(boinc.answer);
    const data = new Uint8Array(20_000).fill(1);
    const { batchId } = await client.createBatch({ appName: 'app', batchName: 'again' });
    await client.uploadFiles([{ physicalName: `jf_${md5(data)}`, data }]);
    const result = await client.submitBatch({ appName: 'app', batchName: 'again', jobs: [{ name: 'j', inputFiles: [{ kind: 'bytes', data }] }] });
    expect(result).toEqual({ batchId, uploadedFiles: [], presentFiles: [`jf_${md5(data)}`], inlineFiles: 0 });
    expect(server?.requests.filter((request) => request.path.endsWith('/job_file.php')).map((request) => requestOf(request).operation)).toEqual(['query_files', 'upload_files', 'query_files']);
  });

  it('refuses a batch name that already has jobs, before sending anything', async () => {
    const boinc = createBoincLikeAnswer();
    const client = await clientFor(boinc.answer);
    await client.submitBatch({ appName: 'app', batchName: 'taken', jobs: [{ name: 'a', inputFiles: [] }] });
    await expect(client.submitBatch({ appName: 'app', batchName: 'taken', jobs: [{ name: 'b', inputFiles: [] }] })).rejects.toThrow(
      expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT', message: expect.stringContaining('a BOINC batch takes its jobs once') }),
    );
    expect(server?.requests.filter((request) => requestOf(request).operation === 'submit_batch')).toHaveLength(1);
  });

  it('uploads in requests PHP accepts: at most uploadMaxFiles files and uploadMaxBytes bytes each', async () => {
    const boinc = createBoincLikeAnswer();
    const client = await clientFor(boinc.answer, { uploadMaxFiles: 20, uploadMaxBytes: 1000 });
    const files = Array.from({ length: 25 }, (_, index) => new Uint8Array(10).fill(index));
    const big = new Uint8Array(5000).fill(99);
    const result = await client.uploadFiles([...files, big].map((data) => ({ physicalName: `jf_${md5(data)}`, data })));
    expect(result.uploaded).toHaveLength(26);
    const uploads = server?.requests.filter((request) => requestOf(request).operation === 'upload_files') ?? [];
    expect(uploads.map((request) => [...(request.form?.keys() ?? [])].length - 1)).toEqual([20, 5, 1]);
  });

  it('streams a file given by path, hashed and uploaded once even when several jobs use it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'tsmw-submit-'));
    try {
      const path = join(directory, 'data.bin');
      const content = new Uint8Array(300_000).map((_, index) => index % 251);
      writeFileSync(path, content);
      const boinc = createBoincLikeAnswer();
      const client = await clientFor(boinc.answer);
      const result = await client.submitBatch({
        appName: 'app',
        jobs: [
          { name: 'p0', inputFiles: [{ kind: 'path', path }] },
          { name: 'p1', inputFiles: [{ kind: 'path', path }] },
        ],
      });
      expect(result.uploadedFiles).toEqual([`jf_${md5(content)}`]);
      expect(boinc.files.get(`jf_${md5(content)}`)).toEqual(content);
      // Without a name, the batch for the upload is created by create_batch without one.
      expect(requestOf(server?.requests[0] as SeenRequest)).toMatchObject({ operation: 'create_batch' });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('an unreadable path is refused before anything is sent', async () => {
    const client = await clientFor(() => ({ body: '' }));
    await expect(client.submitBatch({ appName: 'app', jobs: [{ name: 'x', inputFiles: [{ kind: 'path', path: '/nonexistent/file' }] }] })).rejects.toThrow(
      expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT', message: expect.stringContaining('/nonexistent/file') }),
    );
    expect(server?.requests).toHaveLength(0);
  });
});

describe('the other operations', () => {
  it('queryBatchChanges, queryJob, queryCompletedJob, abortJobs, abortBatch, retireBatch, getTemplates, queryFiles', async () => {
    const replies: Record<string, string> = {
      query_batch2: readFixture('constructed/query_batch2_response.xml'),
      query_job: readFixture('constructed/query_job_response.xml'),
      query_completed_job: readFixture('constructed/query_completed_job_response.xml'),
      abort_jobs: readFixture('constructed/abort_jobs_response.xml'),
      abort_batch: boincReply('abort_batch', '<success>1</success>'),
      retire_batch: readFixture('constructed/retire_batch_response.xml'),
      get_templates: readFixture('constructed/get_templates_response.xml'),
      query_files: readFixture('constructed/query_files_response.xml'),
    };
    const client = await clientFor((seen) => ({ body: replies[requestOf(seen).operation] ?? '' }));
    const changes = await client.queryBatchChanges({ batchNames: ['demo_batch_2', 'other'], minModTime: 1795550000 });
    expect(changes.batches.map((batch) => batch.jobs.length)).toEqual([2, 1]);
    expect((await client.queryJob(10))[0]?.outputSizes).toEqual([123]);
    expect((await client.queryCompletedJob('demo_rpc_job_2')).canonicalResultId).toBe(9);
    expect(await client.abortJobs(['job_a', 'job.b-2'])).toEqual(['job_a', 'job.b-2']);
    await client.abortBatch({ batchName: 'demo_batch_2' });
    await client.retireBatch({ batchId: 3 });
    expect((await client.getTemplates({ appName: 'nodeapp' })).inputFileCount).toBe(1);
    expect(await client.queryFiles(['jf_a', 'jf_b', 'jf_c'], { batchId: 3 })).toEqual(['jf_a', 'jf_c']);
    expect(server?.requests.map((request) => [request.path.split('/').pop(), requestOf(request).operation])).toEqual([
      ['submit_rpc_handler.php', 'query_batch2'],
      ['submit_rpc_handler.php', 'query_job'],
      ['submit_rpc_handler.php', 'query_completed_job'],
      ['submit_rpc_handler.php', 'abort_jobs'],
      ['submit_rpc_handler.php', 'abort_batch'],
      ['submit_rpc_handler.php', 'retire_batch'],
      ['submit_rpc_handler.php', 'get_templates'],
      ['job_file.php', 'query_files'],
    ]);
  });
});

describe('downloadOutput', () => {
  const file = new TextEncoder().encode('result envelope bytes');
  const attachment = { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename=demo_rpc_job_2_0__out' };

  it('get_output2.php cmd=file with auth in the query; the file sent twice is read once', async () => {
    const client = await clientFor(() => ({ headers: attachment, body: Buffer.concat([file, file]) }));
    expect(await client.downloadOutput({ resultId: 9, fileIndex: 0, expectedBytes: file.byteLength })).toEqual(new Uint8Array(file));
    const seen = server?.requests[0];
    expect(seen?.method).toBe('GET');
    expect(seen?.path).toBe('/proj/get_output2.php');
    expect(Object.fromEntries(seen?.query ?? [])).toEqual({ cmd: 'file', result_id: '9', file_num: '0', auth: authenticator });
  });

  it('get_output3.php action=get_file with the cookie and download=1', async () => {
    const client = await clientFor(() => ({ headers: attachment, body: file }));
    expect(await client.downloadOutput({ resultId: 9, fileIndex: 1, source: 'batch-collect' })).toEqual(new Uint8Array(file));
    const seen = server?.requests[0];
    expect(seen?.path).toBe('/proj/get_output3.php');
    expect(Object.fromEntries(seen?.query ?? [])).toEqual({ action: 'get_file', result_id: '9', index: '1', download: '1' });
    expect(seen?.headers.cookie).toBe(`auth=${authenticator}`);
  });

  it('a size other than the one BOINC reported is a retryable BoincOutputError (retried, then thrown)', async () => {
    const client = await clientFor(() => ({ headers: attachment, body: file.subarray(0, 5) }), { retries: 2 });
    await expect(client.downloadOutput({ resultId: 9, expectedBytes: file.byteLength })).rejects.toThrow(
      expect.objectContaining({ code: 'TSMW_BOINC_OUTPUT', resultId: 9, fileIndex: 0, message: expect.stringContaining(`is 5 bytes; BOINC reported ${file.byteLength}`) }),
    );
    expect(server?.requests).toHaveLength(3);
  });

  it("a refusal printed as a page (die('bad auth'), error_page) is a BoincOutputError saying so, not retried", async () => {
    const client = await clientFor(() => ({ headers: { 'content-type': 'text/html' }, body: 'bad auth' }));
    await expect(client.downloadOutput({ resultId: 9 })).rejects.toThrow(expect.objectContaining({ code: 'TSMW_BOINC_OUTPUT', isRetryable: false, message: expect.stringContaining('bad auth') }));
    expect(server?.requests).toHaveLength(1);
  });

  it('a redirect to the login page says the authenticator was not accepted', async () => {
    const client = await clientFor(() => ({ status: 302, headers: { location: 'http://127.0.0.1/proj/login_form.php?next_url=get_output3.php' } }));
    await expect(client.downloadOutput({ resultId: 9, source: 'batch-collect' })).rejects.toThrow(
      expect.objectContaining({ code: 'TSMW_BOINC_REQUEST', reason: 'http-status', status: 302, message: expect.stringContaining('the authenticator was not accepted') }),
    );
  });
});
