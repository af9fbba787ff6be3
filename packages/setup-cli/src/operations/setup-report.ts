/** What a command did (or, with `--dry-run`, would do): printed as text, or as JSON with `--json`. */
export interface SetupReport {
  readonly command: 'init' | 'deploy' | 'remove';
  readonly projectHome: string;
  readonly app: string;
  readonly dryRun: boolean;
  /** Whether anything was (or would be) changed or run. */
  readonly changed: boolean;
  /** The unified diffs and command lines of the plan (what `--dry-run` prints). */
  readonly diff: string;
  readonly changes: readonly { readonly path: string; readonly action: 'create' | 'update' | 'delete'; readonly bytes: number }[];
  readonly commands: readonly { readonly command: string; readonly reason: string }[];
  /** Commands that ran (empty for `--dry-run`). */
  readonly commandsRun: readonly string[];
  readonly backups: readonly string[];
  readonly warnings: readonly string[];
  readonly notes: readonly string[];
  readonly appVersion?: AppVersionReport;
}

export interface AppVersionReport {
  readonly versionNum: number;
  /** The directory name: `1.00`. */
  readonly version: string;
  /** Whether this run created it (false: the current version already carries this task module). */
  readonly created: boolean;
  readonly moduleHash: string;
  readonly taskNames: readonly string[];
  readonly platforms: readonly string[];
  readonly node: string;
}
