import { detectSqliteEngine, type SqliteEngine } from '../src/store/sqlite-database.js';

/**
 * Every SQLite engine that works in this process, `node:sqlite` first: on Node 22.13+ the
 * built-in one (and better-sqlite3 too where its binary was built for this Node), on Node 20
 * better-sqlite3. Tests of the store run on each.
 */
export function availableSqliteEngines(): SqliteEngine[] {
  const engines: SqliteEngine[] = [];
  const unavailable = (): never => {
    throw new Error('left out');
  };
  for (const probes of [{ requireModule: unavailable }, { builtinModule: () => undefined }]) {
    try {
      engines.push(detectSqliteEngine(probes));
    } catch {
      // this engine does not run on this Node
    }
  }
  if (engines.length === 0) throw new Error(`No SQLite engine works on Node ${process.version}`);
  return engines;
}
