import { createRequire } from 'node:module';
import { SqliteUnavailableError } from '../errors/sqlite-unavailable-error.js';

/**
 * One small adapter over the two SQLite engines the batch store runs on, with one set of
 * semantics: Node's built-in `node:sqlite` (`DatabaseSync`, unflagged since Node 22.13 and
 * 23.4), preferred wherever the running Node has it, and `better-sqlite3` (an optional
 * dependency) on older Nodes (Node 20). Both are SQLite 3 underneath: the same file, readable by
 * either, and by the `sqlite3` shell.
 *
 * What is the same on both, whichever runs: statements prepared once and run with positional or
 * named (`@name`, given as `{ name }`) parameters, extra named values ignored; integers read as
 * numbers; transactions through `transaction(work, 'deferred' | 'immediate')` (BEGIN, then
 * COMMIT, or ROLLBACK and rethrow; a nested call is a savepoint; work that returns a promise is
 * refused, as a transaction cannot stay open across an await); a busy timeout set with the same
 * pragma. Journal mode and synchronous level are the caller's pragmas (`exec`).
 */
export type SqliteEngineName = 'node:sqlite' | 'better-sqlite3';

export type SqliteValue = string | number | bigint | Uint8Array | null;
export type SqliteParameters = readonly SqliteValue[] | readonly [Readonly<Record<string, SqliteValue>>];

/** A prepared statement; rows are plain objects of column values (the caller knows their shape). */
export interface SqliteStatement {
  run(...parameters: SqliteParameters): { readonly changes: number; readonly lastInsertRowid: number };
  get(...parameters: SqliteParameters): unknown;
  all(...parameters: SqliteParameters): unknown[];
  iterate(...parameters: SqliteParameters): IterableIterator<unknown>;
}

export interface SqliteDatabase {
  readonly engine: SqliteEngineName;
  readonly isOpen: boolean;
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  /** Runs `work` in a transaction (`immediate` takes the write lock at BEGIN); commits, or rolls back and rethrows. */
  transaction<T>(work: () => T, behaviour?: 'deferred' | 'immediate'): T;
  close(): void;
}

export interface OpenSqliteOptions {
  readonly readOnly?: boolean;
  /** How long to wait for another connection's lock before failing with SQLITE_BUSY, ms (default 15,000). */
  readonly busyTimeoutMs?: number;
  /** The engine to use (tests); default: `node:sqlite` where this Node has it, else better-sqlite3. */
  readonly engine?: SqliteEngine;
}

/** What the adapter needs of an engine's connection and statements. */
interface RawStatement {
  run(...parameters: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...parameters: unknown[]): unknown;
  all(...parameters: unknown[]): unknown[];
  iterate(...parameters: unknown[]): IterableIterator<unknown>;
}
interface RawConnection {
  exec(sql: string): unknown;
  prepare(sql: string): RawStatement;
  close(): unknown;
}

/** A way to open connections: one of the two engines, loaded and checked to work. */
export interface SqliteEngine {
  readonly name: SqliteEngineName;
  /** Opens a connection; a read-only one needs the file to exist. */
  connect(path: string, readOnly: boolean): RawConnection;
}

/** Opens a SQLite database on the engine this Node has (see `loadSqliteEngine`). */
export function openSqliteDatabase(path: string, options: OpenSqliteOptions = {}): SqliteDatabase {
  const engine = options.engine ?? loadSqliteEngine();
  const connection = engine.connect(path, options.readOnly === true);
  const database = new AdaptedDatabase(engine.name, connection);
  try {
    database.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 15_000))}`);
  } catch (error) {
    database.close();
    throw error;
  }
  return database;
}

class AdaptedDatabase implements SqliteDatabase {
  private open = true;
  private depth = 0;

  constructor(
    readonly engine: SqliteEngineName,
    private readonly connection: RawConnection,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  exec(sql: string): void {
    this.connection.exec(sql);
  }

  prepare(sql: string): SqliteStatement {
    const statement = this.connection.prepare(sql);
    // node:sqlite refuses named values the statement does not use; better-sqlite3 ignores them.
    const unknownNames = (statement as { setAllowUnknownNamedParameters?: (allow: boolean) => void }).setAllowUnknownNamedParameters;
    if (typeof unknownNames === 'function') unknownNames.call(statement, true);
    return {
      run: (...parameters) => {
        const result = statement.run(...parameters);
        return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
      },
      get: (...parameters) => statement.get(...parameters),
      all: (...parameters) => statement.all(...parameters),
      iterate: (...parameters) => statement.iterate(...parameters),
    };
  }

  transaction<T>(work: () => T, behaviour: 'deferred' | 'immediate' = 'deferred'): T {
    const nested = this.depth > 0;
    const savepoint = `tsmw_${this.depth}`;
    this.exec(nested ? `SAVEPOINT ${savepoint}` : behaviour === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN');
    this.depth += 1;
    try {
      const result = work();
      if (typeof (result as { then?: unknown } | null)?.then === 'function') {
        throw new TypeError('A SQLite transaction cannot span an await: its work must be synchronous');
      }
      this.exec(nested ? `RELEASE ${savepoint}` : 'COMMIT');
      return result;
    } catch (error) {
      try {
        this.exec(nested ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : 'ROLLBACK');
      } catch {
        // SQLite already rolled the transaction back (a full disk, an I/O error): nothing is left to undo.
      }
      throw error;
    } finally {
      this.depth -= 1;
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.connection.close();
  }
}

// ---- the engines ------------------------------------------------------------------------------

/** What `detectSqliteEngine` probes (the real ones by default; tests pass their own). */
export interface SqliteEngineProbes {
  /** `process.getBuiltinModule`: the built-in `node:sqlite`, or undefined where this Node has none. */
  readonly builtinModule?: (id: string) => unknown;
  /** Loads `better-sqlite3` (CommonJS). */
  readonly requireModule?: (id: string) => unknown;
  /** The running Node's version, for the message (default `process.version`). */
  readonly nodeVersion?: string;
}

interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => RawConnection;
}
type BetterSqliteConstructor = new (path: string, options?: { readonly?: boolean; fileMustExist?: boolean }) => RawConnection;

/**
 * Finds the SQLite this process can use: `node:sqlite` where the running Node has it (without its
 * one-time ExperimentalWarning: the user did not choose it, tsmw did; every other warning passes
 * through), else `better-sqlite3`, checked by opening a database in memory (a binary built for
 * another Node fails here, not later). Throws `SqliteUnavailableError` (one line: which Node,
 * what to install) when neither works.
 */
export function detectSqliteEngine(probes: SqliteEngineProbes = {}): SqliteEngine {
  const builtin = loadNodeSqlite(probes.builtinModule ?? defaultBuiltinModule);
  if (builtin !== undefined) {
    return { name: 'node:sqlite', connect: (path, readOnly) => new builtin.DatabaseSync(path, readOnly ? { readOnly: true } : {}) };
  }
  let reason: string;
  try {
    const loaded = (probes.requireModule ?? defaultRequire)('better-sqlite3') as BetterSqliteConstructor | { default: BetterSqliteConstructor };
    const Database = typeof loaded === 'function' ? loaded : loaded.default;
    new Database(':memory:').close();
    return { name: 'better-sqlite3', connect: (path, readOnly) => new Database(path, readOnly ? { readonly: true, fileMustExist: true } : {}) };
  } catch (error) {
    reason = firstLine(error instanceof Error ? error.message : String(error));
  }
  const nodeVersion = probes.nodeVersion ?? process.version;
  throw new SqliteUnavailableError(
    `The BOINC transport keeps each batch in SQLite, and Node ${nodeVersion} has none: no node:sqlite (built into Node 22.13 and newer) and no working better-sqlite3 (${reason}); run Node 22.13+ or 24, or install better-sqlite3 (npm install better-sqlite3@12.11.1; where npm cannot download a prebuilt binary it compiles one, which needs python3, make and a C++ compiler)`,
  );
}

let loadedEngine: SqliteEngine | undefined;

/** The engine of this process (detected once; see `detectSqliteEngine`). */
export function loadSqliteEngine(): SqliteEngine {
  loadedEngine ??= detectSqliteEngine();
  return loadedEngine;
}

function defaultBuiltinModule(id: string): unknown {
  const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return typeof getBuiltinModule === 'function' ? getBuiltinModule.call(process, id) : undefined;
}

const defaultRequire = (id: string): unknown => createRequire(import.meta.url)(id);

/** `node:sqlite` without its ExperimentalWarning (Node 22 and 24 print one when it first loads). */
function loadNodeSqlite(builtinModule: (id: string) => unknown): NodeSqliteModule | undefined {
  const emitWarning = process.emitWarning;
  process.emitWarning = function filtered(this: unknown, warning: string | Error, ...rest: unknown[]): void {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    const name = typeof warning === 'string' ? type : warning.name;
    if (name === 'ExperimentalWarning' && /^SQLite is an experimental feature/.test(text)) return;
    (emitWarning as (...values: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    const module = builtinModule('node:sqlite') as NodeSqliteModule | undefined;
    return typeof module?.DatabaseSync === 'function' ? module : undefined;
  } catch {
    // A Node that has node:sqlite only behind --experimental-sqlite (22.5 to 22.12) may refuse it.
    return undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line === '' ? 'it could not be loaded' : line;
}
