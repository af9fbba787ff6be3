import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as the scripted server saw it. */
export interface SeenRequest {
  readonly method: string;
  /** The path without the query, for example `/proj/submit_rpc_handler.php`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Uint8Array;
  /** The form, for `application/x-www-form-urlencoded` and `multipart/form-data` bodies. */
  readonly form: FormData | undefined;
  /** The form's `request` field: the XML a BOINC handler reads. */
  readonly requestXml: string | undefined;
}

/** What the server does with a request. */
export type ScriptedAnswer =
  | { readonly status?: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string | Uint8Array }
  /** Sends the headers and part of the body, then cuts the connection. */
  | { readonly cutAfter: string; readonly contentLength: number }
  /** Never answers (the client's time-out is under test). */
  | { readonly hang: true };

export interface ScriptedHttpServer {
  /** `http://127.0.0.1:PORT/proj/`. */
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * A tiny HTTP server for tests of the submission client: every request is recorded (its form
 * parsed as PHP would see it) and answered by `answer`.
 */
export async function startScriptedHttpServer(answer: (request: SeenRequest, index: number) => ScriptedAnswer | Promise<ScriptedAnswer>): Promise<ScriptedHttpServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const body = await readBody(request);
      const url = new URL(request.url ?? '/', 'http://localhost');
      const contentType = request.headers['content-type'] ?? '';
      let form: FormData | undefined;
      if (/multipart\/form-data|application\/x-www-form-urlencoded/.test(contentType)) {
        form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
      }
      const requestField = form?.get('request');
      const seen: SeenRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body,
        form,
        requestXml: typeof requestField === 'string' ? requestField : undefined,
      };
      requests.push(seen);
      const reply = await answer(seen, requests.length - 1);
      if ('hang' in reply) return;
      if ('cutAfter' in reply) {
        response.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(reply.contentLength) });
        response.write(reply.cutAfter, () => response.socket?.destroy());
        return;
      }
      response.writeHead(reply.status ?? 200, { 'content-type': 'text/xml', ...reply.headers });
      response.end(reply.body ?? '');
    })();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/proj/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** BOINC's XML declaration, as every reply starts. */
export const xmlDeclaration = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n';

/** A reply in BOINC's format: `<op>` + content + `</op>`. */
export function boincReply(operation: string, content: string): string {
  return `${xmlDeclaration}<${operation}>\n${content}\n        </${operation}>\n    `;
}

/** BOINC's `xml_error()` inside the operation's element. */
export function boincError(operation: string, errorNumber: number, message: string): string {
  return `${xmlDeclaration}<${operation}>\n<error>\n    <error_num>${errorNumber}</error_num>\n    <error_msg>${message}</error_msg>\n</error>\n</${operation}>\n`;
}
