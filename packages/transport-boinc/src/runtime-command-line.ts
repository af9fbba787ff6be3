/**
 * The command line every job carries for tsmw's client runtime (BOINC appends a workunit's
 * command line to the app version's): the master's envelope cap, so that an output over it
 * becomes a task failed with `TSMW_ENVELOPE_TOO_LARGE` on the volunteer's host, as on every
 * transport, instead of an upload the server refuses (`max_nbytes`) with no word of why.
 */
export function runtimeCommandLine(maxEnvelopeBytes: number): string {
  return `--max-envelope-bytes ${maxEnvelopeBytes}`;
}
