import type { BoincChannel, ControlMessage } from './boinc-channel.js';

/** Why the reporter concluded that the BOINC client is gone (the BOINC API then exits 0). */
export type ClientGoneReason = 'heartbeat-timeout' | 'client-exited';

export interface StatusReporterOptions {
  readonly channel: BoincChannel;
  /** From init_data.xml: when set, the reporter checks every `pidCheckIntervalMs` that it still runs. */
  readonly clientPid?: number | undefined;
  /** CPU seconds of earlier runs (init_data.xml `wu_cpu_time`), added to this process's CPU time. */
  readonly initialCpuTime?: number;
  /** Called for every process-control message, after `suspended` is updated. */
  readonly onControl?: (message: ControlMessage) => void;
  /** Called once when the client stops heartbeating or its process is gone; the reporter stops. */
  readonly onClientGone?: (reason: ClientGoneReason) => void;
  /** Default 1000: BOINC expects the channels polled and status sent once a second. */
  readonly intervalMs?: number;
  /** Default 30 000, as the BOINC API. */
  readonly heartbeatTimeoutMs?: number;
  /** Default 10 000, as the BOINC API. */
  readonly pidCheckIntervalMs?: number;
  /** CPU seconds used by this process so far; default `process.cpuUsage()` (all threads). */
  readonly cpuTime?: () => number;
  /** Milliseconds clock; default `Date.now`. */
  readonly now?: () => number;
  /** Default: `process.kill(pid, 0)` (EPERM counts as alive). */
  readonly isProcessAlive?: (pid: number) => boolean;
}

export interface StatusReporter {
  /** True between a `suspend` and the next `resume`: the task should pause its work. */
  readonly suspended: boolean;
  /** Set once the client is gone; no more polling happens. */
  readonly clientGone: ClientGoneReason | undefined;
  /** Progress of this run, 0..1 (scaled by the channel into fraction_done_start..end). */
  setFractionDone(fraction: number): void;
  /** Records a checkpoint: the next status carries the current CPU time as `checkpoint_cpu_time`. */
  checkpointCompleted(): void;
  /** The CPU seconds that would be reported now. */
  currentCpuTime(): number;
  /** One poll: control, heartbeat, client liveness, then status (unless suspended). Timers call it; tests may too. */
  poll(): void;
  /**
   * Sends the status now, if the client has read the previous one (as the BOINC API does in
   * `boinc_finish`, so the client's final CPU time includes the last second). False when not sent.
   */
  sendStatus(): boolean;
  /** Polls every `intervalMs` on an unref'd timer (it never keeps the process alive). */
  start(): void;
  stop(): void;
}

function defaultIsProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function defaultCpuTime(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * The app's side of the BOINC conversation, as the BOINC API runs it: every second read the
 * process-control channel (suspend/resume/quit/abort), consume the heartbeat, watch for the
 * client going away (30 s without heartbeat, or its pid gone, checked every 10 s), and, unless
 * suspended, send the status (CPU time, checkpoint CPU time, fraction done). It only reports what
 * it sees: acting on a message (pausing, exiting 0 on quit, 194 on abort, writing exit files) is
 * the caller's, through `onControl` and `onClientGone`.
 */
export function createStatusReporter(options: StatusReporterOptions): StatusReporter {
  const now = options.now ?? Date.now;
  const cpuTime = options.cpuTime ?? defaultCpuTime;
  const isProcessAlive = options.isProcessAlive ?? defaultIsProcessAlive;
  const initialCpuTime = options.initialCpuTime ?? 0;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 30_000;
  const pidCheckIntervalMs = options.pidCheckIntervalMs ?? 10_000;
  const startedAt = now();
  let lastHeartbeatAt = startedAt;
  let lastPidCheckAt = startedAt;
  let suspended = false;
  let clientGone: ClientGoneReason | undefined;
  let fractionDone: number | undefined;
  let checkpointCpuTime = initialCpuTime;
  let timer: NodeJS.Timeout | undefined;

  const currentCpuTime = (): number => initialCpuTime + cpuTime();

  function gone(reason: ClientGoneReason): void {
    clientGone = reason;
    reporter.stop();
    options.onClientGone?.(reason);
  }

  const reporter: StatusReporter = {
    get suspended() {
      return suspended;
    },
    get clientGone() {
      return clientGone;
    },
    setFractionDone(fraction) {
      if (Number.isFinite(fraction)) fractionDone = Math.min(1, Math.max(0, fraction));
    },
    checkpointCompleted() {
      checkpointCpuTime = currentCpuTime();
    },
    currentCpuTime,
    poll() {
      if (clientGone !== undefined) return;
      const message = options.channel.readControl();
      if (message === 'suspend') suspended = true;
      if (message === 'resume') suspended = false;
      if (message !== null) options.onControl?.(message);
      if (clientGone !== undefined) return;

      const time = now();
      if (options.channel.readHeartbeat()) lastHeartbeatAt = time;
      else if (time - lastHeartbeatAt > heartbeatTimeoutMs) {
        gone('heartbeat-timeout');
        return;
      }
      if (options.clientPid !== undefined && time - lastPidCheckAt >= pidCheckIntervalMs) {
        lastPidCheckAt = time;
        if (!isProcessAlive(options.clientPid)) {
          gone('client-exited');
          return;
        }
      }
      if (!suspended) reporter.sendStatus();
    },
    sendStatus() {
      if (clientGone !== undefined || suspended) return false;
      return options.channel.sendStatus({
        currentCpuTime: currentCpuTime(),
        checkpointCpuTime,
        ...(fractionDone === undefined ? {} : { fractionDone }),
      });
    },
    start() {
      if (timer !== undefined || clientGone !== undefined) return;
      timer = setInterval(() => reporter.poll(), options.intervalMs ?? 1000);
      timer.unref();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
  return reporter;
}
