import { setTimeout as sleep } from 'node:timers/promises';
import { TsmwError } from '@tsmw/core';
import { BoincXmlError } from '../xml/boinc-xml-error.js';
import { BoincRequestError } from './boinc-request-error.js';
import type { SubmitRpcLogEntry } from './submit-rpc-types.js';

// One HTTP exchange with a BOINC server, with the time-out, the size cap, the retries and the
// back-off every operation of the client shares. Errors come out typed and redacted.

export interface HttpExchangeSettings {
  readonly baseUrl: URL;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly maxReplyBytes: number;
  readonly fetch: typeof globalThis.fetch;
  readonly log: ((entry: SubmitRpcLogEntry) => void) | undefined;
  /** Removes the authenticator from any text. */
  readonly redact: (text: string) => string;
}

/** A reply as read: status, headers, the whole body (within the cap). */
export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** What fetch sends: a form, bytes, text. */
export type RequestBody = NonNullable<RequestInit['body']>;

export interface HttpRequest<T> {
  /** Named in errors and logs (`query_batch`, `upload_files`, `get_output2 file`). */
  readonly operation: string;
  /** Relative to the project URL: `submit_rpc_handler.php`. */
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Built again for every attempt (a FormData or stream cannot be sent twice). */
  readonly body?: () => Promise<RequestBody> | RequestBody;
  /**
   * Whether doing it twice is harmless. A call that is not is retried only when its request
   * certainly never reached the server; when it may have, the error says `outcomeUnknown`.
   */
  readonly idempotent: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Reads the reply; may throw typed errors (retryable ones are retried). */
  readonly read: (reply: HttpReply) => T;
}

/** Network error codes that mean the request never left (nothing can have happened on the server). */
const neverSentCodes: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

/** The delay before attempt `attempt + 1`: doubling from `initialMs`, at most `maxMs`, the upper half jittered. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), when the server sent one. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const value = headers?.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d{1,7}$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** An error's chain (message, name, code) copied with the authenticator removed: safe to keep as `cause`. */
export function redactedCause(error: unknown, redact: (text: string) => string, depth = 0): Error | undefined {
  if (!(error instanceof Error) && !(typeof error === 'object' && error !== null && 'message' in error)) return undefined;
  const source = error as Error & { code?: unknown; cause?: unknown };
  const copy = new Error(redact(String(source.message))) as Error & { code?: unknown };
  copy.name = typeof source.name === 'string' ? source.name : 'Error';
  if (typeof source.code === 'string' || typeof source.code === 'number') copy.code = source.code;
  copy.stack = `${copy.name}: ${copy.message}`;
  const inner = depth < 4 ? redactedCause(source.cause, redact, depth + 1) : undefined;
  if (inner !== undefined) Object.defineProperty(copy, 'cause', { value: inner, enumerable: false, writable: true, configurable: true });
  return copy;
}

function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_INVALID_STATE') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

async function readCapped(response: Response, maxBytes: number, operation: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BoincXmlError(`${operation}: the reply announces ${declared} bytes, over the limit of ${maxBytes}`, { reason: 'too-large', operation });
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BoincXmlError(`${operation}: the reply is over the limit of ${maxBytes} bytes`, { reason: 'too-large', operation });
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The title of an HTML page or the first words of a text body, redacted, for a status error. */
function bodySummary(body: Uint8Array, redact: (text: string) => string): string {
  // Redacted whole before any cut: a cut could split the authenticator past recognition.
  const text = redact(new TextDecoder('utf-8', { fatal: false }).decode(body)).slice(0, 4096);
  const title = /<title[^>]{0,200}>([^<]{0,200})<\/title>/i.exec(text)?.[1];
  const plain = (title ?? text.replace(/<[^>]{0,300}>/g, ' ')).replace(/\s+/g, ' ').trim();
  const short = plain.slice(0, 160);
  return short === '' ? '' : `: ${short}`;
}

interface Failure {
  readonly error: TsmwError;
  /** The request certainly never reached the server. */
  readonly neverSent: boolean;
  readonly headers?: Headers;
}

/** Runs one request with time-out, cap, retries and back-off; throws typed, redacted errors only. */
export async function exchange<T>(settings: HttpExchangeSettings, request: HttpRequest<T>): Promise<T> {
  const { operation } = request;
  const url = new URL(request.path, settings.baseUrl);
  if (request.query !== undefined) for (const [name, value] of Object.entries(request.query)) url.searchParams.set(name, value);
  // What errors may name: the script, never the query (which may hold `auth=`).
  const where = `${settings.baseUrl.origin}${url.pathname}`;
  const maxAttempts = settings.retries + 1;

  for (let attempt = 1; ; attempt += 1) {
    const started = performance.now();
    let status: number | undefined;
    let failure: Failure;
    try {
      if (request.signal?.aborted === true) throw request.signal.reason;
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      const signal = request.signal === undefined ? timeout : AbortSignal.any([request.signal, timeout]);
      const body = request.body === undefined ? undefined : await request.body();
      let reply: HttpReply;
      try {
        const response = await settings.fetch(url, {
          method: request.method,
          ...(request.headers === undefined ? {} : { headers: request.headers }),
          ...(body === undefined ? {} : { body }),
          redirect: 'manual',
          signal,
        });
        status = response.status;
        const replyBody = await readCapped(response, settings.maxReplyBytes, operation);
        reply = { status: response.status, headers: response.headers, body: replyBody };
      } catch (error) {
        if (isAborted(request.signal)) throw request.signal?.reason;
        if (timeout.aborted) {
          throw new BoincRequestError(`${operation}: no complete answer from ${where} within ${settings.timeoutMs} ms`, {
            reason: 'timeout',
            operation,
            attempts: attempt,
            retryable: true,
            outcomeUnknown: true,
          });
        }
        throw error;
      }
      if (reply.status !== 200) {
        const location = reply.headers.get('location');
        const retryable = reply.status >= 500 || reply.status === 408 || reply.status === 429;
        const detail =
          reply.status >= 300 && reply.status < 400
            ? ` (redirected to ${location === null ? 'an unnamed page' : settings.redact(location).split('?')[0]}: ${/login/i.test(settings.redact(location ?? '')) ? 'the authenticator was not accepted' : 'use the URL it names'})`
            : bodySummary(reply.body, settings.redact);
        throw Object.assign(
          new BoincRequestError(`${operation}: ${where} answered HTTP ${reply.status}${detail}`, {
            reason: 'http-status',
            operation,
            status: reply.status,
            attempts: attempt,
            retryable,
            outcomeUnknown: reply.status >= 500,
          }),
          { headers: reply.headers },
        );
      }
      const value = request.read(reply);
      settings.log?.({ operation, attempt, outcome: 'ok', durationMs: performance.now() - started, status: reply.status });
      return value;
    } catch (error) {
      failure = classify(error, request, where, attempt, settings.redact);
    }

    const { error } = failure;
    const durationMs = performance.now() - started;
    const mayRetry = error.isRetryable && attempt < maxAttempts && (request.idempotent || failure.neverSent);
    if (mayRetry) {
      const delayMs = Math.max(
        backoffDelay(attempt, settings.backoffInitialMs, settings.backoffMaxMs),
        Math.min(retryAfterMs(failure.headers) ?? 0, settings.backoffMaxMs),
      );
      settings.log?.({ operation, attempt, outcome: 'retry', durationMs, ...(status === undefined ? {} : { status }), error: error.message, delayMs });
      try {
        await sleep(delayMs, undefined, request.signal === undefined ? undefined : { signal: request.signal });
      } catch {
        throw abortedError(operation, attempt);
      }
      continue;
    }
    settings.log?.({ operation, attempt, outcome: 'failed', durationMs, ...(status === undefined ? {} : { status }), error: error.message });
    if (!request.idempotent && !failure.neverSent && error.isRetryable) {
      throw new BoincRequestError(
        `${operation}: ${error.message}; the server may have carried it out: look before doing it again (query the batch by name)`,
        { reason: 'outcome-unknown', operation, attempts: attempt, retryable: true, outcomeUnknown: true, ...(status === undefined ? {} : { status }), cause: error },
      );
    }
    throw error;
  }
}

/** Read through a function: the compiler's narrowing does not know a signal can abort meanwhile. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function abortedError(operation: string, attempt: number): BoincRequestError {
  return new BoincRequestError(`${operation}: aborted by the caller`, { reason: 'aborted', operation, attempts: attempt, retryable: false });
}

function classify(error: unknown, request: HttpRequest<unknown>, where: string, attempt: number, redact: (text: string) => string): Failure {
  const { operation } = request;
  if (request.signal?.aborted === true) return { error: abortedError(operation, attempt), neverSent: false };
  if (TsmwError.isInstance(error)) {
    const headers = (error as { headers?: unknown }).headers;
    return { error, neverSent: false, ...(headers instanceof Headers ? { headers } : {}) };
  }
  const code = errorCode(error);
  const neverSent = code !== undefined && neverSentCodes.has(code);
  const cause = redactedCause(error, redact);
  const detail = code ?? (error instanceof Error ? redact(error.message) : 'unknown failure');
  return {
    error: new BoincRequestError(`${operation}: the exchange with ${where} failed (${detail})`, {
      reason: 'network',
      operation,
      attempts: attempt,
      retryable: true,
      outcomeUnknown: !neverSent,
      ...(cause === undefined ? {} : { cause }),
    }),
    neverSent,
  };
}
