import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * The physical name BOINC gives a job file from its content (`html/inc/submit_util.inc`
 * `job_file_name()`): `jf_<md5>`. The same bytes always get the same name, whether they went
 * inline or through `job_file.php`, so nothing is uploaded twice.
 */
export function jobFileName(md5: string): string {
  return `jf_${md5}`;
}

/** MD5 of bytes, lowercase hex. */
export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** MD5 and size of a file, read as a stream (a large data file is never held in memory). */
export async function md5OfFile(path: string): Promise<{ readonly md5: string; readonly size: number }> {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    size += bytes.byteLength;
    hash.update(bytes);
  }
  return { md5: hash.digest('hex'), size };
}
