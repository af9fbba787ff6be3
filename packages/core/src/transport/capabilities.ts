/**
 * What a transport declares it can do. The master and the conformance suite read these; a
 * transport must not declare what it cannot honour.
 */
export interface TransportCapabilitiesV1 {
  /**
   * `doCancel` works: a queued task is dropped, and a running one has its `signal` aborted (and
   * is stopped by force if it ignores it, where the transport can).
   */
  readonly cancel: boolean;
  /** `task-progress` events are sent while tasks run. */
  readonly progress: boolean;
  /**
   * Submitted tasks and their results survive the master process: a master killed and started
   * again gets them back from `doStart` (`recovered`) and `doReceive`, and must `doAcknowledge`.
   */
  readonly durable: boolean;
  /** `context.checkpoint()` / `restore()` really keep state across a stop and restart of a task. */
  readonly checkpoint: boolean;
  /** Data files submitted with tasks (`submit(..., { files })`) reach `context.file(name)`. */
  readonly files: boolean;
  /**
   * `interactive`: results in milliseconds to seconds (threads, processes). `batch`: minutes to
   * days (BOINC); the master then avoids anything that needs a quick answer.
   */
  readonly latency: 'interactive' | 'batch';
  /** The largest encoded task envelope (plus files) the transport accepts, in bytes. */
  readonly maxEnvelopeBytes: number;
  /** How many tasks the master should hand over in one `doSubmit`. */
  readonly maxBatchSize: number;
  /**
   * How many submitted, unsettled tasks the transport wants at most; the master keeps the rest
   * queued (where `schedule` can still reorder them). `Infinity` is allowed.
   */
  readonly maxInFlight: number;
}
