import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { availableSqliteEngines } from '../../test/sqlite-engines.js';
import { SqliteUnavailableError } from '../errors/sqlite-unavailable-error.js';
import { detectSqliteEngine, openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';

let directory: string;
const opened: SqliteDatabase[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-sqlite-'));
});
afterEach(async () => {
  for (const database of opened.splice(0)) database.close();
  await rm(directory, { recursive: true, force: true });
});

describe.each(availableSqliteEngines().map((engine) => [engine.name, engine] as const))('the SQLite adapter on %s', (name, engine) => {
  function open(file = 'test.sqlite', readOnly = false): SqliteDatabase {
    const database = openSqliteDatabase(join(directory, file), { engine, readOnly });
    opened.push(database);
    return database;
  }

  function table(): SqliteDatabase {
    const database = open();
    database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL');
    database.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, size INTEGER)');
    return database;
  }

  it('is the engine asked for, in WAL mode with synchronous FULL and the busy timeout', () => {
    const database = table();
    expect(database.engine).toBe(name);
    expect(database.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(database.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 });
    expect(database.prepare('PRAGMA busy_timeout').get()).toEqual({ timeout: 15_000 });
  });

  it('runs prepared statements with positional and named values, ignoring named values it does not use', () => {
    const database = table();
    const insert = database.prepare('INSERT INTO items (name, size) VALUES (@name, @size)');
    expect(insert.run({ name: 'a', size: 1, unused: 'ignored' })).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(database.prepare('INSERT INTO items (name, size) VALUES (?, ?)').run('b', 2 ** 40)).toEqual({ changes: 1, lastInsertRowid: 2 });
    expect({ ...(database.prepare('SELECT * FROM items WHERE name = ?').get('b') as object) }).toEqual({ id: 2, name: 'b', size: 2 ** 40 });
    expect(database.prepare('SELECT * FROM items WHERE name = ?').get('none')).toBeUndefined();
    expect((database.prepare('SELECT name FROM items ORDER BY id').all() as Array<{ name: string }>).map((row) => row.name)).toEqual(['a', 'b']);
    expect([...database.prepare('SELECT id FROM items ORDER BY id DESC').iterate()].map((row) => (row as { id: number }).id)).toEqual([2, 1]);
  });

  it('commits a transaction, or rolls all of it back and rethrows', () => {
    const database = table();
    const insert = database.prepare('INSERT INTO items (name) VALUES (?)');
    expect(database.transaction(() => insert.run('a').lastInsertRowid)).toBe(1);
    expect(() =>
      database.transaction(() => {
        insert.run('b');
        insert.run('a'); // a duplicate: the whole transaction goes
      }),
    ).toThrow(/UNIQUE/);
    expect(database.prepare('SELECT COUNT(*) AS n FROM items').get()).toEqual({ n: 1 });
    // The connection is usable after a rollback.
    database.transaction(() => insert.run('c'), 'immediate');
    expect(database.prepare('SELECT COUNT(*) AS n FROM items').get()).toEqual({ n: 2 });
  });

  it('makes a nested transaction a savepoint', () => {
    const database = table();
    const insert = database.prepare('INSERT INTO items (name) VALUES (?)');
    database.transaction(() => {
      insert.run('outer');
      expect(() =>
        database.transaction(() => {
          insert.run('inner');
          throw new Error('inner fails');
        }),
      ).toThrow('inner fails');
      database.transaction(() => insert.run('inner again'));
    });
    expect((database.prepare('SELECT name FROM items ORDER BY id').all() as Array<{ name: string }>).map((row) => row.name)).toEqual(['outer', 'inner again']);
  });

  it('refuses work that returns a promise, and leaves nothing of it', () => {
    const database = table();
    const insert = database.prepare('INSERT INTO items (name) VALUES (?)');
    expect(() => database.transaction(() => Promise.resolve(insert.run('a')))).toThrow(/cannot span an await/);
    expect(database.prepare('SELECT COUNT(*) AS n FROM items').get()).toEqual({ n: 0 });
  });

  it('reads a file written by a second connection, and refuses to open a missing file read-only', () => {
    table().prepare('INSERT INTO items (name) VALUES (?)').run('shared');
    expect(open('test.sqlite', true).prepare('SELECT name FROM items').all()).toEqual([{ name: 'shared' }]);
    expect(() => open('missing.sqlite', true)).toThrow();
  });
});

describe('choosing the engine', () => {
  it('prefers node:sqlite where this Node has it, else better-sqlite3', () => {
    const [first] = availableSqliteEngines();
    const hasBuiltin = typeof (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule === 'function' && process.getBuiltinModule('node:sqlite') !== undefined;
    expect(first!.name).toBe(hasBuiltin ? 'node:sqlite' : 'better-sqlite3');
  });

  it('says in one line which Node runs and what to install when there is neither', () => {
    const error = (() => {
      try {
        detectSqliteEngine({
          builtinModule: () => undefined,
          requireModule: () => {
            throw new Error("Cannot find module 'better-sqlite3'\nRequire stack:\n- /somewhere/index.js");
          },
          nodeVersion: 'v20.20.2',
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(SqliteUnavailableError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('Node v20.20.2');
    expect(message).toContain("Cannot find module 'better-sqlite3'");
    expect(message).toContain('npm install better-sqlite3@12.11.1');
    expect(message).toContain('Node 22.13');
  });

  it('says so too when better-sqlite3 is there but its binary does not load on this Node', () => {
    class BrokenBinding {
      constructor() {
        throw new Error('The module was compiled against a different Node.js version using NODE_MODULE_VERSION 115.');
      }
    }
    expect(() => detectSqliteEngine({ builtinModule: () => undefined, requireModule: () => BrokenBinding })).toThrow(/NODE_MODULE_VERSION 115/);
  });

  it("keeps node:sqlite's ExperimentalWarning to itself and passes every other warning on", async () => {
    const seen: string[] = [];
    const listener = (warning: Error) => seen.push(`${warning.name}: ${warning.message}`);
    process.on('warning', listener);
    try {
      const engine = detectSqliteEngine({
        builtinModule: (id) => {
          expect(id).toBe('node:sqlite');
          process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
          process.emitWarning('the user warned about this', 'UserWarning');
          process.emitWarning('an experimental feature of the user', 'ExperimentalWarning');
          return { DatabaseSync: class {} };
        },
      });
      expect(engine.name).toBe('node:sqlite');
      await new Promise<void>((resolve) => {
        const waitForLast = (warning: Error): void => {
          if (warning.message === 'an experimental feature of the user') {
            process.off('warning', waitForLast);
            resolve();
          }
        };
        process.on('warning', waitForLast);
      });
      expect(seen).toEqual(['UserWarning: the user warned about this', 'ExperimentalWarning: an experimental feature of the user']);
      // And process.emitWarning is Node's own again.
      process.emitWarning('after', 'UserWarning');
      await new Promise<void>((resolve) => process.once('warning', () => resolve()));
      expect(seen.at(-1)).toBe('UserWarning: after');
    } finally {
      process.off('warning', listener);
    }
  });

  it("prints no SQLite ExperimentalWarning when a store is opened in a fresh Node, and still prints the program's own warnings", async () => {
    const builtEntry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `
      const { BatchStore } = await import(${JSON.stringify(builtEntry)});
      const store = BatchStore.open({ path: ${JSON.stringify(join(directory, 'fresh.sqlite'))}, batch: 'b', app: 'a', mode: 'on-server', location: '/p' });
      process.stdout.write(store.engine + '\\n');
      store.close();
      process.emitWarning('the program speaks', 'UserWarning');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    expect(stdout.trim()).toBe(availableSqliteEngines()[0]!.name);
    expect(stderr).toContain('UserWarning: the program speaks');
    expect(stderr).not.toContain('SQLite');
  });

  it('makes the transport refuse to start, with that one line, on a Node with neither', async () => {
    // A Node without node:sqlite and without better-sqlite3, whatever this one has.
    const preload = join(directory, 'no-sqlite.cjs');
    await writeFile(
      preload,
      `const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'better-sqlite3') throw Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      const builtin = process.getBuiltinModule;
      process.getBuiltinModule = (id) => (id === 'node:sqlite' || id === 'sqlite' ? undefined : builtin.call(process, id));`,
    );
    const builtEntry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `
      const { createBoincTransport } = await import(${JSON.stringify(builtEntry)});
      const transport = createBoincTransport({ app: 'tsmw', projectHome: ${JSON.stringify(join(directory, 'project'))} });
      try {
        await transport.doStart({ batch: 'b', maxEnvelopeBytes: 1e6, taskModule: { url: 'file:///nowhere/tasks.js' } });
        process.stdout.write('started\\n');
      } catch (error) {
        process.stdout.write(JSON.stringify({ name: error.name, code: error.code, message: error.message }) + '\\n');
      }
    `;
    const child = spawn(process.execPath, ['--require', preload, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    expect(await new Promise((resolve) => child.once('close', resolve)), stderr).toBe(0);
    const reported = JSON.parse(stdout) as { name: string; code: string; message: string };
    expect(reported.name).toBe('SqliteUnavailableError');
    expect(reported.code).toBe(SqliteUnavailableError.code);
    expect(reported.message).toContain(`Node ${process.version} has none`);
    expect(reported.message).toContain('npm install better-sqlite3@12.11.1');
    expect(reported.message).not.toContain('\n');
  });
});
