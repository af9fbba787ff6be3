import { createHash } from 'node:crypto';
import { childNumber, childText, escapeXmlText, findChild, tryParseXml } from './parse-xml.js';

/** `0` success, `1` transient error (the client retries), `-1` permanent error (the upload fails). */
export type DataServerStatus = 0 | 1 | -1;

export interface DataServerResponse {
  readonly status: DataServerStatus;
  /** The `<data_server_reply>` document to send back. */
  readonly reply: string;
  readonly command: 'file-upload' | 'get-file-size' | 'none';
  readonly fileName: string | undefined;
  /** Why the request was refused; undefined on success. */
  readonly message: string | undefined;
  /** True when this request finished the file (all `nbytes` received and checked). */
  readonly completed: boolean;
}

export interface ExpectedUpload {
  /** The limit the server set in `<max_nbytes>`; larger uploads are refused permanently. */
  readonly maxBytes: number;
}

export interface UploadHandlerOptions {
  /** The outputs the server handed out; uploads of other names are refused permanently. */
  readonly expectedUpload: (fileName: string) => ExpectedUpload | undefined;
  /** Called once per file when it is complete and its MD5 matched. */
  readonly onUploadComplete?: (fileName: string, data: Buffer) => void;
}

export interface UploadHandler {
  /** Handles one POST body to `file_upload_handler`. Never throws. */
  handle(body: Buffer): DataServerResponse;
  /** Bytes received so far for `fileName` (complete or partial), 0 when none. */
  receivedSize(fileName: string): number;
  /** The complete file, or undefined while absent or partial. */
  readUpload(fileName: string): Buffer | undefined;
}

function renderReply(status: DataServerStatus, extra: string | undefined): string {
  const lines = ['<data_server_reply>', `    <status>${status}</status>`];
  if (extra !== undefined) lines.push(`    ${extra}`);
  lines.push('</data_server_reply>', '');
  return lines.join('\n');
}

const dataTag = Buffer.from('<data>');

/**
 * The file upload handler's protocol (`sched/file_upload_handler.cpp`), strict where it counts
 * for tests: the file must be one the scheduler handed out, `nbytes` may not exceed
 * `max_nbytes` (the client's copy or the server's own), the offset must continue the partial
 * file, and a complete file must match `md5_cksum` (the real handler ignores the checksum; this
 * double refuses a mismatch permanently so corruption cannot pass unnoticed).
 */
export function createUploadHandler(options: UploadHandlerOptions): UploadHandler {
  const partial = new Map<string, Buffer>();
  const complete = new Map<string, Buffer>();

  function refuse(
    status: 1 | -1,
    command: DataServerResponse['command'],
    fileName: string | undefined,
    message: string,
  ): DataServerResponse {
    return { status, reply: renderReply(status, `<message>${escapeXmlText(message)}</message>`), command, fileName, message, completed: false };
  }

  function handleGetFileSize(fileName: string): DataServerResponse {
    if (fileName.includes('..') || fileName === '') return refuse(-1, 'get-file-size', fileName, 'Bad filename');
    const size = complete.get(fileName)?.length ?? partial.get(fileName)?.length ?? 0;
    return {
      status: 0,
      reply: renderReply(0, `<file_size>${size}</file_size>`),
      command: 'get-file-size',
      fileName,
      message: undefined,
      completed: false,
    };
  }

  function handleUpload(body: Buffer, dataIndex: number, header: string): DataServerResponse {
    const root = tryParseXml(header);
    if (!root) return refuse(1, 'none', undefined, 'unreadable request');
    const request = findChild(root, 'data_server_request') ?? root;
    const upload = findChild(request, 'file_upload');
    if (!upload) return refuse(1, 'none', undefined, 'no command');
    const fileInfo = findChild(upload, 'file_info') ?? upload;
    const name = childText(fileInfo, 'name') ?? '';
    if (name === '') return refuse(-1, 'file-upload', undefined, 'Missing name');
    if (dataIndex === -1) return refuse(-1, 'file-upload', name, 'Missing <data> tag');
    const nbytes = childNumber(upload, 'nbytes');
    if (nbytes === undefined || nbytes < 0) return refuse(-1, 'file-upload', name, 'nbytes missing or negative');
    const offset = childNumber(upload, 'offset') ?? 0;
    const md5 = childText(upload, 'md5_cksum');
    if (name.includes('..')) return refuse(-1, 'file-upload', name, `.. found in filename: ${name}`);
    const expected = options.expectedUpload(name);
    if (!expected) return refuse(-1, 'file-upload', name, `unknown file: ${name} was not handed out as an output`);
    const clientMaxBytes = childNumber(fileInfo, 'max_nbytes');
    const limit = Math.min(expected.maxBytes, clientMaxBytes ?? Number.POSITIVE_INFINITY);
    if (nbytes > limit) {
      return refuse(-1, 'file-upload', name, `file size (${Math.floor(nbytes / 1024)} KB) exceeds limit (${Math.floor(limit / 1024)} KB)`);
    }
    const done = complete.get(name);
    if (done) {
      // Already complete (the real handler makes it read-only): accept a repeat of the same file.
      return { status: 0, reply: renderReply(0, undefined), command: 'file-upload', fileName: name, message: undefined, completed: false };
    }

    // The data starts on the line after `<data>`.
    const newline = body.indexOf(0x0a, dataIndex);
    const data = newline === -1 ? Buffer.alloc(0) : body.subarray(newline + 1);
    const previous = partial.get(name) ?? Buffer.alloc(0);
    if (offset > previous.length) {
      return refuse(1, 'file-upload', name, `offset ${offset} is beyond the ${previous.length} bytes received so far`);
    }
    const wanted = nbytes - offset;
    if (data.length > wanted) {
      return refuse(-1, 'file-upload', name, `received ${data.length} bytes after offset ${offset}, more than nbytes ${nbytes} allows`);
    }
    const combined = Buffer.concat([previous.subarray(0, offset), data]);
    if (combined.length < nbytes) {
      partial.set(name, combined);
      return refuse(1, 'file-upload', name, `EOF on socket read: asked for ${wanted}, got ${data.length}`);
    }
    partial.delete(name);
    if (md5 !== undefined && md5 !== '') {
      const actual = createHash('md5').update(combined).digest('hex');
      if (actual !== md5.toLowerCase()) {
        return refuse(-1, 'file-upload', name, `MD5 mismatch: the client said ${md5}, the data has ${actual}`);
      }
    }
    complete.set(name, combined);
    options.onUploadComplete?.(name, combined);
    return { status: 0, reply: renderReply(0, undefined), command: 'file-upload', fileName: name, message: undefined, completed: true };
  }

  return {
    handle(body) {
      const dataIndex = body.indexOf(dataTag);
      const header = body.subarray(0, dataIndex === -1 ? body.length : dataIndex).toString('latin1');
      const sizeRequest = /<get_file_size>([^<]*)<\/get_file_size>/.exec(header);
      if (header.includes('<file_upload>')) return handleUpload(body, dataIndex, header);
      if (sizeRequest) return handleGetFileSize((sizeRequest[1] ?? '').trim());
      return refuse(1, 'none', undefined, 'no command');
    },
    receivedSize(fileName) {
      return complete.get(fileName)?.length ?? partial.get(fileName)?.length ?? 0;
    },
    readUpload(fileName) {
      return complete.get(fileName);
    },
  };
}
