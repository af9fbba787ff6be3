import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BoincTestServerError } from '../boinc-test-server-error.js';

/**
 * The fake project's database: JSON files under `db/`, shared by the project's programs (each a
 * separate process, like BOINC's) and the in-process server. Writers hold `db/.lock` (an O_EXCL
 * file with the holder's pid; a dead holder's lock is taken over). Workunits are inserted the way
 * `create_work` inserts them, one statement at a time: each insert is one file
 * `db/workunits/NNNNNNNNNN.jsonl`, written aside and renamed into place, so an insert is all or
 * nothing and readers never see half of one. Workunit names are unique, as BOINC's unique index
 * makes them: an insert with a name already present (or twice in itself) inserts nothing.
 */

export interface InputFileRecord {
  readonly name: string;
  readonly url: string;
  readonly md5: string;
  readonly nbytes: number;
  readonly openName: string;
  readonly copyFile: boolean;
  readonly remote: boolean;
}

export interface WorkunitRecord {
  readonly id: number;
  readonly name: string;
  readonly appId: number;
  readonly appName: string;
  readonly batch: number;
  readonly priority: number;
  readonly createTime: number;
  /** The workunit's XML document as `process_input_template()` builds it. */
  readonly xmlDoc: string;
  /** Relative to the project directory, as stored by `create_work`. */
  readonly resultTemplateFile: string;
  readonly commandLine: string;
  readonly inputFiles: readonly InputFileRecord[];
  readonly rscFpopsEst: number;
  readonly rscFpopsBound: number;
  readonly rscMemoryBound: number;
  readonly rscDiskBound: number;
  readonly delayBound: number;
  readonly minQuorum: number;
  readonly targetNresults: number;
  readonly maxErrorResults: number;
  readonly maxTotalResults: number;
  readonly maxSuccessResults: number;
  readonly appVersionNum: number;
  readonly keywords: string;
  readonly subAppname: string;
  /** `--target_host`/`--target_user`/`--broadcast*`: created one at a time with an assignment. */
  readonly assignment: { readonly type: 'none' | 'host' | 'user' | 'team'; readonly id: number; readonly multi: boolean } | null;
  /** Which process created it: `create_work` pid. */
  readonly createdBy: number;
}

export interface AppRecord {
  readonly id: number;
  readonly name: string;
  readonly userFriendlyName: string;
  readonly minVersion: number;
  readonly createTime: number;
}

export interface PlatformRecord {
  readonly id: number;
  readonly name: string;
  readonly userFriendlyName: string;
}

export interface AppVersionFileRecord {
  readonly physicalName: string;
  readonly logicalName: string;
  readonly mainProgram: boolean;
  readonly copyFile: boolean;
  readonly executable: boolean;
  readonly gzip: boolean;
  readonly nbytes: number;
  readonly md5: string;
}

export interface AppVersionRecord {
  readonly id: number;
  readonly appName: string;
  readonly versionNum: number;
  readonly platform: string;
  readonly planClass: string;
  readonly apiVersion: string;
  readonly files: readonly AppVersionFileRecord[];
  readonly xmlDoc: string;
  readonly createTime: number;
}

interface AppTables {
  apps: AppRecord[];
  platforms: PlatformRecord[];
  appVersions: AppVersionRecord[];
}

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(milliseconds: number): void {
  Atomics.wait(sleepBuffer, 0, 0, milliseconds);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ProjectDatabase {
  readonly directory: string;
  withLock<T>(action: () => T): T;
  readAppTables(): AppTables;
  writeAppTables(tables: AppTables): void;
  /** Inserts all or nothing: the records with their ids, or the first name already taken (then nothing is inserted). */
  insertWorkunits(records: readonly Omit<WorkunitRecord, 'id'>[]): { readonly inserted: WorkunitRecord[] } | { readonly duplicateName: string };
  /** Every workunit inserted after the first `skipFiles` insert files, and the new file count. */
  readWorkunitsSince(skipFiles: number): { readonly workunits: WorkunitRecord[]; readonly files: number };
  workunitNames(): Set<string>;
}

export function openProjectDatabase(projectDirectory: string): ProjectDatabase {
  const directory = join(projectDirectory, 'db');
  const workunitDirectory = join(directory, 'workunits');
  const lockPath = join(directory, '.lock');
  const tablesPath = join(directory, 'apps.json');
  const nextIdPath = join(directory, 'workunit-next-id');
  mkdirSync(workunitDirectory, { recursive: true });
  let lockDepth = 0;

  function acquire(): void {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const descriptor = openSync(lockPath, 'wx');
        writeSync(descriptor, String(process.pid));
        closeSync(descriptor);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let holder = 0;
      try {
        holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      } catch {
        // Released meanwhile, or still being written.
      }
      if (holder > 0 && !isAlive(holder)) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Someone else took it over first.
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new BoincTestServerError('TSMW_BOINC_FAKE_PROJECT_COMMAND_FAILED', `The project database is locked by pid ${holder} for more than 30 s.`);
      }
      sleepSync(3);
    }
  }

  function insertFiles(): string[] {
    return readdirSync(workunitDirectory)
      .filter((name) => /^\d{10}\.jsonl$/.test(name))
      .sort();
  }

  function parseFile(name: string): WorkunitRecord[] {
    const text = readFileSync(join(workunitDirectory, name), 'utf8');
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as WorkunitRecord);
  }

  const database: ProjectDatabase = {
    directory,
    withLock(action) {
      if (lockDepth > 0) return action();
      acquire();
      lockDepth += 1;
      try {
        return action();
      } finally {
        lockDepth -= 1;
        try {
          unlinkSync(lockPath);
        } catch {
          // already gone
        }
      }
    },
    readAppTables() {
      if (!existsSync(tablesPath)) return { apps: [], platforms: [], appVersions: [] };
      return JSON.parse(readFileSync(tablesPath, 'utf8')) as AppTables;
    },
    writeAppTables(tables) {
      const temporary = `${tablesPath}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(tables, null, 1)}\n`);
      renameSync(temporary, tablesPath);
    },
    workunitNames() {
      const names = new Set<string>();
      for (const file of insertFiles()) for (const record of parseFile(file)) names.add(record.name);
      return names;
    },
    insertWorkunits(records) {
      return database.withLock(() => {
        if (records.length === 0) return { inserted: [] };
        const names = database.workunitNames();
        for (const record of records) {
          if (names.has(record.name)) return { duplicateName: record.name };
          names.add(record.name);
        }
        let nextId = existsSync(nextIdPath) ? Number.parseInt(readFileSync(nextIdPath, 'utf8'), 10) || 1 : 1;
        const inserted = records.map((record) => ({ ...record, id: nextId++ }) as WorkunitRecord);
        const files = insertFiles();
        const last = files.at(-1);
        const sequence = (last === undefined ? 0 : Number.parseInt(last, 10)) + 1;
        const name = `${String(sequence).padStart(10, '0')}.jsonl`;
        const temporary = join(workunitDirectory, `.${name}.${process.pid}.tmp`);
        writeFileSync(temporary, inserted.map((record) => JSON.stringify(record)).join('\n') + '\n');
        writeFileSync(nextIdPath, String(nextId));
        renameSync(temporary, join(workunitDirectory, name));
        return { inserted };
      });
    },
    readWorkunitsSince(skipFiles) {
      const files = insertFiles();
      const workunits: WorkunitRecord[] = [];
      for (const file of files.slice(skipFiles)) workunits.push(...parseFile(file));
      return { workunits, files: files.length };
    },
  };
  return database;
}
