/** What `tsmw-runtime` is asked to do, from its command line. */
export interface RuntimeArguments {
  /** Logical name (in a BOINC slot) or path (by hand) of the task envelope. Default `in`. */
  readonly input: string;
  /** Logical name or path where the result envelope goes. Default `out`. */
  readonly output: string;
  /** Logical name or path of the task module (the app version's second file). Default `tasks.mjs`. */
  readonly tasks: string;
  /** Logical name or path of the checkpoint file. Default `tsmw_checkpoint`. */
  readonly checkpoint: string;
  /** The slot (working) directory. Default: the current directory, where the client starts the app. */
  readonly slotDir: string | undefined;
  /** Cap on the task and result envelopes and checkpoints, bytes. Default 64 MiB. */
  readonly maxEnvelopeBytes: number | undefined;
  /** Seconds without a client heartbeat after which the runtime exits (default 30, as the BOINC API). */
  readonly heartbeatTimeoutSeconds: number;
  readonly help: boolean;
  readonly version: boolean;
}

export const runtimeUsage = `Usage: tsmw-runtime [--input NAME] [--output NAME] [--tasks NAME] [options]

Runs one tsmw task. A BOINC client starts it in a slot directory; it can also be run by hand:
  tsmw-runtime --input task.msgpack --output result.msgpack --tasks ./tasks.mjs

Options:
  --input NAME          the task envelope: a logical name in the slot, or a path (default: in)
  --output NAME         where the result envelope is written (default: out)
  --tasks NAME          the task module, one self-contained ES module (default: tasks.mjs)
  --checkpoint NAME     where context.checkpoint() keeps its state (default: tsmw_checkpoint)
  --slot DIR            the slot directory (default: the current directory)
  --max-envelope-bytes N  cap on envelopes and checkpoints (default: 67108864)
  --heartbeat-timeout S seconds without a client heartbeat before exiting (default: 30)
  --help, --version

Exit status: 0 when the result was written (a task that threw is a result too), or when the
client asked the runtime to quit; 194 when the client aborted the task; 1 with a one-line
reason on stderr when the task could not be run (unreadable input, bad envelope, task module
hash mismatch, task module not loadable).`;

/** A command line the runtime cannot follow; `message` is one line. */
export class RuntimeArgumentsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeArgumentsError';
  }
}

const valueOptions = new Set(['--input', '--output', '--tasks', '--checkpoint', '--slot', '--max-envelope-bytes', '--heartbeat-timeout']);

/**
 * Parses the runtime's arguments. The client passes the workunit's `<command_line>` split on
 * spaces; `--name=value` and `--name value` are both accepted. Unknown options are an error.
 */
export function parseRuntimeArguments(argv: readonly string[]): RuntimeArguments {
  const values = new Map<string, string>();
  let help = false;
  let version = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? '';
    if (argument === '--help' || argument === '-h') {
      help = true;
      continue;
    }
    if (argument === '--version') {
      version = true;
      continue;
    }
    const equals = argument.indexOf('=');
    const name = equals === -1 ? argument : argument.slice(0, equals);
    if (!valueOptions.has(name)) throw new RuntimeArgumentsError(`unknown argument "${argument}" (see --help)`);
    let value: string | undefined;
    if (equals !== -1) value = argument.slice(equals + 1);
    else {
      value = argv[index + 1];
      index += 1;
    }
    if (value === undefined || value === '') throw new RuntimeArgumentsError(`${name} needs a value`);
    values.set(name, value);
  }
  const positive = (name: string): number | undefined => {
    const text = values.get(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new RuntimeArgumentsError(`${name} needs a positive number; got "${text}"`);
    return value;
  };
  return {
    input: values.get('--input') ?? 'in',
    output: values.get('--output') ?? 'out',
    tasks: values.get('--tasks') ?? 'tasks.mjs',
    checkpoint: values.get('--checkpoint') ?? 'tsmw_checkpoint',
    slotDir: values.get('--slot'),
    maxEnvelopeBytes: positive('--max-envelope-bytes'),
    heartbeatTimeoutSeconds: positive('--heartbeat-timeout') ?? 30,
    help,
    version,
  };
}
