import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ClientRuntimeError } from './client-runtime-error.js';

/** The file the client maps (MAP_SHARED) for the app channels on Linux and macOS. */
export const boincMmapFileName = 'boinc_mmap_file';
/** Eight channels of 1024 bytes (`lib/app_ipc.h`). */
export const boincMmapFileSize = 8192;
export const channelSize = 1024;
/** Byte 0 is the flag, the text is NUL-terminated from byte 1: at most 1022 characters. */
export const maxChannelMessageLength = channelSize - 2;

/** Offsets of the channels in `boinc_mmap_file`, in BOINC's order. */
export const channelOffsets = {
  processControlRequest: 0,
  processControlReply: 1024,
  graphicsRequest: 2048,
  graphicsReply: 3072,
  heartbeat: 4096,
  appStatus: 5120,
  trickleUp: 6144,
  trickleDown: 7168,
} as const;

export type ChannelName = keyof typeof channelOffsets;

/** What the client asks of the app on the process-control channel. */
export type ControlMessage = 'suspend' | 'resume' | 'quit' | 'abort' | 'reread_app_info';

export interface StatusUpdate {
  /** CPU seconds of this task, earlier runs included. */
  readonly currentCpuTime: number;
  /** CPU seconds at the last checkpoint; a change tells the client a checkpoint was made. */
  readonly checkpointCpuTime: number;
  /** Progress of this run, 0..1, before scaling into fraction_done_start..end; omit while unknown. */
  readonly fractionDone?: number;
}

export interface BoincChannelOptions {
  readonly slotDir: string;
  /** From init_data.xml; fraction done is reported as start + fraction * (end - start). Default 0. */
  readonly fractionDoneStart?: number;
  /** Default 1. */
  readonly fractionDoneEnd?: number;
}

export interface BoincChannel {
  readonly path: string;
  /** The pending process-control message, consumed (its flag cleared); null when none or unknown. */
  readControl(): ControlMessage | null;
  /** True when a heartbeat was waiting (it is consumed, so the client can send the next). */
  readHeartbeat(): boolean;
  /** Sends an app_status message if the channel is free (flag 0); false when the client has not read the last one. */
  sendStatus(status: StatusUpdate): boolean;
  /** Low-level: send raw text on a channel if it is free. */
  send(channel: ChannelName, text: string): boolean;
  /** Low-level: take the pending text of a channel, or null. */
  receive(channel: ChannelName): string | null;
  close(): void;
}

/**
 * A number as C's `%e` prints it: six decimals and a signed exponent of at least two digits
 * (`1.500000e+00`). Non-finite values print as 0 (the client would misread `nan`).
 */
export function formatScientific(value: number): string {
  const finite = Number.isFinite(value) ? value : 0;
  const [mantissa = '0.000000', exponent = '+0'] = finite.toExponential(6).split('e');
  const sign = exponent.startsWith('-') ? '-' : '+';
  const digits = exponent.replace(/^[+-]/, '').padStart(2, '0');
  return `${mantissa}e${sign}${digits}`;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/**
 * The app_status text the BOINC API sends: each element on its own line, numbers `%e`,
 * both CPU times always (the client zeroes them before parsing), `want_network` 0, and
 * `fraction_done` (already scaled) only once known.
 */
export function formatStatusMessage(status: { currentCpuTime: number; checkpointCpuTime: number; fractionDone?: number | undefined }): string {
  let text =
    `<current_cpu_time>${formatScientific(Math.max(0, status.currentCpuTime))}</current_cpu_time>\n` +
    `<checkpoint_cpu_time>${formatScientific(Math.max(0, status.checkpointCpuTime))}</checkpoint_cpu_time>\n` +
    '<want_network>0</want_network>\n';
  if (status.fractionDone !== undefined && Number.isFinite(status.fractionDone)) {
    text += `<fraction_done>${formatScientific(clamp(status.fractionDone, 0, 1))}</fraction_done>\n`;
  }
  return text;
}

const controlTags: readonly [string, ControlMessage][] = [
  // Most consequential first, should a message ever carry two.
  ['<abort/>', 'abort'],
  ['<quit/>', 'quit'],
  ['<suspend/>', 'suspend'],
  ['<resume/>', 'resume'],
  ['<reread_app_info/>', 'reread_app_info'],
];

/**
 * The shared-memory channel between a BOINC client and the app (`boinc_mmap_file` in the slot),
 * spoken with positioned reads and writes, which on Linux are coherent with the client's
 * mapping. Sending writes the text before the flag; receiving clears the flag after reading.
 * Throws `TSMW_BOINC_CHANNEL_UNAVAILABLE` when the file is missing or short (the client maps
 * it only when the app version declares `api_version` >= 6.0).
 */
export function createBoincChannel(options: BoincChannelOptions): BoincChannel {
  const path = join(options.slotDir, boincMmapFileName);
  const start = options.fractionDoneStart ?? 0;
  const end = options.fractionDoneEnd ?? 1;
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, 'r+');
    const { size } = fstatSync(descriptor);
    if (size < boincMmapFileSize) {
      throw new ClientRuntimeError('TSMW_BOINC_CHANNEL_UNAVAILABLE', `${path} has ${size} bytes, fewer than the ${boincMmapFileSize} of the BOINC channels.`);
    }
  } catch (error) {
    if (descriptor !== undefined) closeSync(descriptor);
    if (ClientRuntimeError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    // Only a missing file means the client shares none; anything else (EACCES in a slot this
    // user cannot write, EROFS...) is said as it is, not blamed on api_version.
    throw new ClientRuntimeError(
      'TSMW_BOINC_CHANNEL_UNAVAILABLE',
      code === 'ENOENT'
        ? `Cannot open ${path}: the BOINC client shares it only with apps whose version declares <api_version> (7.20.0 or at least 6.0).`
        : `Cannot open ${path} for reading and writing: ${code ?? ''}${code === undefined ? '' : ': '}${(error as Error).message.replace(`${code ?? ''}: `, '')}`,
      { cause: error },
    );
  }
  const file = descriptor;
  let closed = false;
  const flag = Buffer.alloc(1);
  const block = Buffer.alloc(channelSize);

  function open(): number {
    if (closed) throw new ClientRuntimeError('TSMW_BOINC_CHANNEL_UNAVAILABLE', `The channel on ${path} is closed.`);
    return file;
  }

  function readFlag(offset: number): number {
    readSync(open(), flag, 0, 1, offset);
    return flag[0] ?? 0;
  }

  function send(channel: ChannelName, text: string): boolean {
    const offset = channelOffsets[channel];
    if (readFlag(offset) !== 0) return false;
    const payload = Buffer.from(text, 'utf8');
    if (payload.length > maxChannelMessageLength) {
      throw new RangeError(`A BOINC channel message holds at most ${maxChannelMessageLength} bytes; got ${payload.length}.`);
    }
    // Text and its NUL first, then the flag: the client never sees a half-written message.
    writeSync(file, Buffer.concat([payload, Buffer.alloc(1)]), 0, payload.length + 1, offset + 1);
    writeSync(file, Buffer.from([1]), 0, 1, offset);
    return true;
  }

  function receive(channel: ChannelName): string | null {
    const offset = channelOffsets[channel];
    readSync(open(), block, 0, channelSize, offset);
    if (block[0] === 0) return null;
    const textEnd = block.indexOf(0, 1);
    const text = block.subarray(1, textEnd === -1 ? channelSize : textEnd).toString('utf8');
    writeSync(file, Buffer.from([0]), 0, 1, offset);
    return text;
  }

  return {
    path,
    send,
    receive,
    readControl() {
      const text = receive('processControlRequest');
      if (text === null) return null;
      for (const [tag, message] of controlTags) {
        if (text.includes(tag)) return message;
      }
      return null;
    },
    readHeartbeat() {
      return receive('heartbeat') !== null;
    },
    sendStatus(status) {
      const fractionDone = status.fractionDone === undefined ? undefined : start + clamp(status.fractionDone, 0, 1) * (end - start);
      return send('appStatus', formatStatusMessage({ currentCpuTime: status.currentCpuTime, checkpointCpuTime: status.checkpointCpuTime, fractionDone }));
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(file);
    },
  };
}
