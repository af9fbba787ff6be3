/** BOINC's workunit error mask bits (`WU_ERROR_*` in BOINC's `db/boinc_db_types.h`). */
export const workunitErrorBits = {
  couldNotSend: 1,
  tooManyErrorResults: 2,
  tooManySuccessResults: 4,
  tooManyTotalResults: 8,
  cancelled: 16,
  noCanonicalResult: 32,
} as const;

const descriptions: ReadonlyArray<readonly [number, string]> = [
  [workunitErrorBits.couldNotSend, 'BOINC could not send the job to any host (no app version for their platforms, or the job needs more memory or disk than any host offers)'],
  [workunitErrorBits.tooManyErrorResults, 'too many errors: every host that ran the job reported a client error (the program crashed, exited with an error, was aborted, or its output could not be uploaded)'],
  [workunitErrorBits.tooManySuccessResults, 'validation failure: hosts returned results but not enough of them agreed'],
  [workunitErrorBits.tooManyTotalResults, 'no valid result after the most copies allowed: hosts did not reply by the deadline, or their results failed validation'],
  [workunitErrorBits.cancelled, 'the job was cancelled on the server'],
  [workunitErrorBits.noCanonicalResult, 'the server lost the job\'s results (no canonical result)'],
];

/** The reasons an error mask encodes, in words, one per set bit (unknown bits are named by value). */
export function describeErrorMask(mask: number): string[] {
  if (!Number.isSafeInteger(mask) || mask <= 0) return ['the job failed without an error mask'];
  const reasons: string[] = [];
  let known = 0;
  for (const [bit, text] of descriptions) {
    known |= bit;
    if ((mask & bit) !== 0) reasons.push(text);
  }
  const unknown = mask & ~known;
  if (unknown !== 0) reasons.push(`unknown error bits ${unknown}`);
  return reasons;
}

/** The message of a failed job: what BOINC's error mask says, then the host's stderr (trimmed to its last 4 KiB). */
export function formatJobFailure(jobName: string, mask: number, stderr?: string): string {
  const reasons = describeErrorMask(mask).join('; ');
  let message = `BOINC job ${jobName} failed (error mask ${mask}): ${reasons}`;
  if (stderr !== undefined && stderr.trim() !== '') {
    const text = stderr.trim();
    message += `\nstderr of the last host:\n${text.length > 4096 ? `...${text.slice(-4096)}` : text}`;
  }
  return message;
}
