import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createSubmitRpcClient, type SubmitRpcClient, type SubmitRpcClientOptions, type SubmitRpcLogEntry } from '@tsmw/transport-boinc';
import { readFixture } from '../../test/read-fixture.js';
import { boincError, boincReply, startScriptedHttpServer, xmlDeclaration, type ScriptedAnswer, type ScriptedHttpServer, type SeenRequest } from '../../test/scripted-http-server.js';
import { backoffDelay, retryAfterMs } from './http-exchange.js';

// An authenticator with characters that change under every encoding a server could echo it in.
const authenticator = 'Secret&Token<9f>"x\'y%2F+=/?Zq';
const encodings = [
  authenticator,
  encodeURIComponent(authenticator),
  new URLSearchParams({ a: authenticator }).toString().slice(2),
  authenticator.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;'),
];
/** Pieces of those forms: none may be left behind by a redaction that missed a form. */
const pieces = ['Secret&Token', 'Secret&amp;Token', 'Token<9f>', 'Token&lt;9f&gt;', 'Token%3C9f', '%2F+=/?Zq', '%252F'];

let server: ScriptedHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const logs: SubmitRpcLogEntry[] = [];

async function clientFor(answer: (request: SeenRequest, index: number) => ScriptedAnswer | Promise<ScriptedAnswer>, options: Partial<SubmitRpcClientOptions> = {}): Promise<SubmitRpcClient> {
  server = await startScriptedHttpServer(answer);
  return createSubmitRpcClient({ url: server.url, authenticator, retries: 2, backoff: { initialMs: 1, maxMs: 4 }, log: (entry) => logs.push(entry), ...options });
}

/** The settled error of `promise`; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

/** Everything an error could show: message, stack, properties, the cause chain. */
function everythingShown(error: unknown): string {
  return `${inspect(error, { depth: 20, showHidden: true })}\n${String(error)}\n${JSON.stringify(error, Object.getOwnPropertyNames(error as object))}`;
}

const errors: unknown[] = [];
function keep<T>(error: T): T {
  errors.push(error);
  return error;
}

describe('failures become typed errors; what may pass is retried with back-off', () => {
  it('HTTP 500 with an HTML page: retried, then BoincRequestError http-status naming the page', async () => {
    const client = await clientFor(() => ({ status: 500, headers: { 'content-type': 'text/html' }, body: readFixture('constructed/html_error_page.html') }));
    const error = keep(await failure(client.queryBatch({ batchId: 3 })));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_REQUEST', reason: 'http-status', status: 500, operation: 'query_batch', attempts: 3, isRetryable: true });
    expect(error.message).toContain('500 Internal Server Error');
    expect(server?.requests).toHaveLength(3);
  });

  it('a 503 that passes: the second attempt succeeds', async () => {
    const client = await clientFor((_seen, index) => (index === 0 ? { status: 503, headers: { 'retry-after': '0' }, body: 'busy' } : { body: readFixture('ping_response.xml') }));
    await client.ping();
    expect(server?.requests).toHaveLength(2);
  });

  it('an HTML page with status 200 (a maintenance page): BoincXmlError html, retried', async () => {
    const client = await clientFor(() => ({ body: '<html><head><title>Project down for maintenance</title></head><body>back soon</body></html>' }));
    const error = keep(await failure(client.ping()));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_XML', reason: 'html', isRetryable: true });
    expect(error.message).toContain('Project down for maintenance');
    expect(server?.requests).toHaveLength(3);
  });

  it('a cut-off reply: BoincXmlError truncated, retried until whole', async () => {
    const whole = readFixture('query_batch_response.xml');
    const client = await clientFor((_seen, index) => ({ body: index < 2 ? whole.slice(0, 600) : whole }));
    expect((await client.queryBatch({ batchId: 3 })).name).toBe('demo_batch_2');
    expect(server?.requests).toHaveLength(3);
  });

  it('a connection cut mid-reply: BoincRequestError network', async () => {
    const client = await clientFor(() => ({ cutAfter: `${xmlDeclaration}<query_batch>\n<id>3`, contentLength: 5000 }));
    const error = keep(await failure(client.queryBatch({ batchId: 3 })));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_REQUEST', reason: 'network', isRetryable: true });
    expect(server?.requests).toHaveLength(3);
  });

  it('a server that never answers: BoincRequestError timeout after each attempt', async () => {
    const client = await clientFor(() => ({ hang: true }), { timeoutMs: 300, retries: 1 });
    const error = keep(await failure(client.ping()));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_REQUEST', reason: 'timeout', attempts: 2, isRetryable: true });
    expect(error.message).toContain('within 300 ms');
    expect(server?.requests).toHaveLength(2);
  });

  it("BOINC's <error> is not retried and carries BOINC's number and message", async () => {
    const client = await clientFor(() => ({ body: boincError('query_batch', -1, 'not owner of batch') }));
    const error = keep(await failure(client.queryBatch({ batchName: 'b' })));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_RPC', errorNumber: -1, boincMessage: 'not owner of batch', operation: 'query_batch', isRetryable: false });
    expect(server?.requests).toHaveLength(1);
  });

  it("BOINC's 'project offline' (-183) is retried", async () => {
    const client = await clientFor((_seen, index) => ({ body: index === 0 ? boincError('ping', -183, 'Project is temporarily offline') : readFixture('ping_response.xml') }));
    await client.ping();
    expect(server?.requests).toHaveLength(2);
  });

  it('a reply over maxReplyBytes is refused unread', async () => {
    const client = await clientFor(() => ({ body: boincReply('ping', `<success>1</success>${' '.repeat(5000)}`) }), { maxReplyBytes: 1000 });
    expect(keep(await failure(client.ping()))).toMatchObject({ code: 'TSMW_BOINC_XML', reason: 'too-large' });
  });

  it('a redirect is not followed: BoincRequestError naming where it leads (without its query)', async () => {
    const client = await clientFor(() => ({ status: 301, headers: { location: 'https://boinc.example.org/proj/submit_rpc_handler.php?x=1' } }));
    const error = keep(await failure(client.ping()));
    expect(error).toMatchObject({ reason: 'http-status', status: 301, isRetryable: false });
    expect(error.message).toContain('redirected to https://boinc.example.org/proj/submit_rpc_handler.php: use the URL it names');
    expect(server?.requests).toHaveLength(1);
  });

  it("the caller's signal aborts the call and its retries", async () => {
    const controller = new AbortController();
    const client = await clientFor(() => {
      controller.abort();
      return { status: 500, body: 'x' };
    });
    const error = keep(await failure(client.ping({ signal: controller.signal })));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_REQUEST', reason: 'aborted', isRetryable: false });
    expect(server?.requests).toHaveLength(1);
  });
});

describe('calls that create things are not repeated blindly', () => {
  it('submit_batch answered by a 500: not retried, outcomeUnknown says to look before submitting again', async () => {
    const client = await clientFor(() => ({ status: 500, body: 'Internal Server Error' }));
    const error = keep(await failure(client.submitBatch({ appName: 'app', jobs: [{ name: 'j', inputFiles: [] }] })));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_REQUEST', reason: 'outcome-unknown', outcomeUnknown: true, operation: 'submit_batch', isRetryable: true });
    expect(error.message).toContain('query the batch by name');
    expect(server?.requests).toHaveLength(1);
  });

  it('create_batch timing out: not retried, outcomeUnknown', async () => {
    const client = await clientFor(() => ({ hang: true }), { timeoutMs: 300 });
    expect(keep(await failure(client.createBatch({ appName: 'app', batchName: 'b' })))).toMatchObject({ reason: 'outcome-unknown', outcomeUnknown: true });
    expect(server?.requests).toHaveLength(1);
  });

  it('a refused connection never reached the server: submit_batch is retried, and fails as network, not outcome-unknown', async () => {
    // A port with nothing listening.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const attempts: SubmitRpcLogEntry[] = [];
    const client = createSubmitRpcClient({ url: `http://127.0.0.1:${port}/proj/`, authenticator, retries: 2, backoff: { initialMs: 1, maxMs: 2 }, log: (entry) => attempts.push(entry) });
    const error = keep(await failure(client.submitBatch({ appName: 'app', jobs: [{ name: 'j', inputFiles: [] }] })));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_REQUEST', reason: 'network', outcomeUnknown: false, attempts: 3 });
    expect(error.message).toContain('ECONNREFUSED');
    expect(attempts.map((entry) => entry.outcome)).toEqual(['retry', 'retry', 'failed']);
  });

  it('an upload whose reply was lost is not sent twice: the client asks again what is absent', async () => {
    const stored = new Set<string>();
    const client = await clientFor(async (seen, index) => {
      const xml = seen.requestXml ?? '';
      const names = [...xml.matchAll(/<phys_name>([^<]+)<\/phys_name>/g)].map((match) => match[1] ?? '');
      if (xml.startsWith('<query_files>')) {
        const absent = names.flatMap((name, position) => (stored.has(name) ? [] : [`<file>${position}</file>`]));
        return { body: boincReply('query_files', `<absent_files>\n${absent.join('\n')}\n</absent_files>`) };
      }
      for (const name of names) stored.add(name);
      // The first upload is stored, but its reply never arrives whole.
      return index === 1 ? { cutAfter: xmlDeclaration, contentLength: 500 } : { body: boincReply('upload_files', '<success/>') };
    });
    const data = new Uint8Array([1, 2, 3]);
    const result = await client.uploadFiles([{ physicalName: 'jf_00000000000000000000000000000001', data }]);
    expect(result.uploaded).toEqual([]);
    expect(server?.requests.map((request) => (request.requestXml ?? '').slice(1, 13))).toEqual(['query_files>', 'upload_files', 'query_files>']);
  });
});

describe('the authenticator never shows', () => {
  it('not when the server echoes it back in an error, in any encoding', async () => {
    const echoed = encodings.join(' | ');
    const client = await clientFor(() => ({ body: `${xmlDeclaration}<error>\n    <error_num>-1</error_num>\n    <error_msg>can't parse request message: ${echoed.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</error_msg>\n</error>\n` }));
    const error = keep(await failure(client.ping()));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_RPC' });
    expect(String(error.boincMessage)).toContain('[authenticator]');
  });

  it('not when an HTML page or a garbled reply quotes it', async () => {
    const client = await clientFor((_seen, index) =>
      index % 2 === 0
        ? { status: 502, body: `<html><title>Bad gateway for ${authenticator}</title></html>` }
        : { body: `${xmlDeclaration}<ping><x>${encodeURIComponent(authenticator)}</y></ping>` },
    );
    keep(await failure(client.ping()));
    keep(await failure(client.queryBatch({ batchId: 1 })));
  });

  it('not in a download refusal that quotes the query', async () => {
    const client = await clientFor(() => ({ headers: { 'content-type': 'text/plain' }, body: `bad auth: ${authenticator} / ${encodeURIComponent(authenticator)}` }));
    keep(await failure(client.downloadOutput({ resultId: 1 })));
  });

  it('not in a refused authenticator', () => {
    const error = (() => {
      try {
        createSubmitRpcClient({ url: 'http://127.0.0.1/', authenticator: `${authenticator} with spaces` });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'TSMW_INVALID_ARGUMENT' });
    keep(error);
  });

  it('in no error and no log entry of this file', () => {
    expect(errors.length).toBeGreaterThan(15);
    expect(logs.length).toBeGreaterThan(20);
    const shown = [...errors.map(everythingShown), JSON.stringify(logs)].join('\n');
    for (const form of [...encodings, ...pieces]) expect(shown.includes(form), `${form} in: ${shown.slice(Math.max(0, shown.indexOf(form) - 300), shown.indexOf(form) + 100)}`).toBe(false);
  });
});

describe('back-off', () => {
  it('doubles from initialMs up to maxMs, jittered in the upper half', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, 1000, 30_000, () => 1))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000]);
    expect([1, 2, 3].map((attempt) => backoffDelay(attempt, 1000, 30_000, () => 0))).toEqual([500, 1000, 2000]);
  });

  it("reads Retry-After as seconds or as a date", () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '7' }))).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 21 Oct 2026 07:28:10 GMT' }), Date.parse('Wed, 21 Oct 2026 07:28:00 GMT'))).toBe(10_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });
});
