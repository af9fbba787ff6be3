import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { childText, findChild, findChildren, textOf, tryParseXml } from '../parse-xml.js';
import type { XmlElement } from '../parse-xml.js';
import type { CommandIo } from './create-work.js';
import { ProgramExit } from './create-work.js';
import { dirHierPath } from './dir-hier.js';
import { findProjectDirectory, readProjectConfig, shortHostname } from './project-config.js';
import { openProjectDatabase } from './project-database.js';
import type { AppVersionFileRecord } from './project-database.js';

/**
 * Doubles of the project programs a setup tool calls: `bin/xadd`, `bin/update_versions`,
 * `bin/start`, `bin/stop` (and `bin/status`), `bin/stage_file`, `bin/dir_hier_path`. Each has the
 * real program's observable effects on the project and its messages where a caller reads them.
 */

function md5Of(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

/** `check_download_file()` of `html/inc/dir_hier.inc`: 0 already there, 1 not there (writes `.md5`), -1 different file there. */
export function checkDownloadFile(path: string, downloadPath: string): 0 | 1 | -1 {
  const md5 = md5Of(path);
  const size = statSync(path).size;
  const md5Path = `${downloadPath}.md5`;
  if (existsSync(downloadPath)) {
    if (existsSync(md5Path)) {
      const [recordedMd5, recordedSize] = readFileSync(md5Path, 'latin1').split(' ');
      return statSync(downloadPath).size === Number(recordedSize) && recordedMd5 === md5 ? 0 : -1;
    }
    if (md5Of(downloadPath) !== md5) return -1;
    writeFileSync(md5Path, `${md5} ${size}\n`);
    return 0;
  }
  writeFileSync(md5Path, `${md5} ${size}\n`);
  return 1;
}

function touch(path: string): void {
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch {
    writeFileSync(path, '');
  }
}

/** `bin/xadd`: adds project.xml's platforms and apps to the database (run from the project directory). */
export function runXadd(argv: readonly string[], io: CommandIo): void {
  void argv;
  if (!existsSync(join(io.cwd, 'html', 'inc'))) {
    io.stderr(`PHP Warning:  chdir(): No such file or directory (errno 2) in ${join(io.cwd, 'bin', 'xadd')}\nPHP Fatal error:  require_once(): Failed opening required 'boinc_db.inc'\n`);
    throw new ProgramExit(255);
  }
  const projectXmlPath = join(io.cwd, 'project.xml');
  const document = existsSync(projectXmlPath) ? tryParseXml(readFileSync(projectXmlPath, 'latin1')) : undefined;
  const boinc = document && findChild(document, 'boinc');
  if (!boinc) {
    io.stderr(`PHP Warning:  simplexml_load_file(): I/O warning : failed to load external entity "project.xml"\nPHP Fatal error:  Uncaught Error: Call to a member function on bool\n`);
    throw new ProgramExit(255);
  }
  const database = openProjectDatabase(io.cwd);
  database.withLock(() => {
    const tables = database.readAppTables();
    const now = Math.floor(Date.now() / 1000);
    for (const platform of findChildren(boinc, 'platform')) {
      const name = childText(platform, 'name') ?? '';
      const userFriendlyName = childText(platform, 'user_friendly_name') ?? '';
      const existing = tables.platforms.findIndex((candidate) => candidate.name === name);
      if (existing >= 0) {
        if (tables.platforms[existing]!.userFriendlyName !== userFriendlyName) {
          tables.platforms[existing] = { ...tables.platforms[existing]!, userFriendlyName };
          io.stdout(`updated user friendly name of platform ${name}\n`);
        } else {
          io.stdout(`platform ${name} already in DB\n`);
        }
      } else {
        tables.platforms.push({ id: tables.platforms.length + 1, name, userFriendlyName });
        io.stdout(`added platform: (create_time, name, user_friendly_name) values (${now}, '${name}', '${userFriendlyName}')\n`);
      }
    }
    for (const app of findChildren(boinc, 'app')) {
      const name = childText(app, 'name') ?? '';
      const userFriendlyName = childText(app, 'user_friendly_name') ?? '';
      const minVersion = Number.parseInt(childText(app, 'min_version') ?? '0', 10) || 0;
      const existing = tables.apps.findIndex((candidate) => candidate.name === name);
      if (existing >= 0) {
        const current = tables.apps[existing]!;
        if (current.userFriendlyName !== userFriendlyName) {
          tables.apps[existing] = { ...current, userFriendlyName };
          io.stdout(`updated user friendly name of app ${name}\n`);
        } else if (current.minVersion !== minVersion) {
          tables.apps[existing] = { ...current, minVersion };
          io.stdout(`updated min_version of app ${name}\n`);
        } else {
          io.stdout(`app ${name} already in DB\n`);
        }
      } else {
        tables.apps.push({ id: tables.apps.length + 1, name, userFriendlyName, minVersion, createTime: now });
        io.stdout(`added app: (create_time, name, user_friendly_name) values (${now}, '${name}', '${userFriendlyName}')\n`);
      }
    }
    database.writeAppTables(tables);
  });
}

function parseVersion(text: string): number {
  const parts = text.split('.');
  const isNumeric = (part: string | undefined): boolean => part !== undefined && part !== '' && Number.isFinite(Number(part));
  if (!isNumeric(parts[0])) return -1;
  if (parts.length > 1) {
    if (!isNumeric(parts[1])) return -1;
    return Number(parts[1]) + 100 * Number(parts[0]);
  }
  return Math.trunc(Number(parts[0]));
}

function boolElement(parent: XmlElement, name: string): boolean {
  return findChildren(parent, name).some((element) => {
    const text = textOf(element).trim();
    return text === '' || (Number.parseInt(text, 10) || 0) > 0;
  });
}

interface VersionFile {
  physicalName: string;
  logicalName: string;
  urls: string[];
  mainProgram: boolean;
  copyFile: boolean;
  gzip: boolean;
  present: boolean;
  executable: boolean;
  nbytes: number;
  md5: string;
  gzippedNbytes: number;
}

/** `bin/update_versions [--noconfirm] [--verbose]`: registers each new `apps/APP/VERSION/PLATFORM[__PLAN]/`. */
export function runUpdateVersions(argv: readonly string[], io: CommandIo, readAnswer: () => string): void {
  let confirm = true;
  let verbose = false;
  for (const argument of argv) {
    if (argument === '--noconfirm') confirm = false;
    else if (argument === '--verbose') verbose = true;
    else {
      io.stdout(`unknown arg ${argument}\n`);
      throw new ProgramExit(255);
    }
  }
  const config = readProjectConfig(io.cwd);
  const database = openProjectDatabase(io.cwd);
  const appsDirectory = join(io.cwd, 'apps');
  if (!existsSync(appsDirectory)) {
    io.stdout("can't open apps/");
    throw new ProgramExit(255);
  }
  let signatureConfirmed = false;
  const entries = (directory: string): string[] => readdirSync(directory).filter((name) => !name.startsWith('.')).sort();
  database.withLock(() => {
    const tables = database.readAppTables();
    for (const appName of entries(appsDirectory)) {
      const app = tables.apps.find((candidate) => candidate.name === appName);
      if (!app) {
        io.stdout(`${appName} is not an app\n`);
        continue;
      }
      if (verbose) io.stdout(`App ${appName}:\n`);
      for (const version of entries(join(appsDirectory, appName))) {
        const versionNum = parseVersion(version);
        if (versionNum < 0) {
          io.stdout(`${version} is not a version number; skipping\n`);
          continue;
        }
        for (const platformDirectory of entries(join(appsDirectory, appName, version))) {
          const [platformName = '', planClass = ''] = platformDirectory.split('__');
          const platform = tables.platforms.find((candidate) => candidate.name === platformName);
          if (!platform) {
            io.stdout(`         no such platform: ${platformName}\n`);
            continue;
          }
          if (tables.appVersions.some((candidate) => candidate.appName === appName && candidate.versionNum === versionNum && candidate.platform === platformName && candidate.planClass === planClass)) {
            if (verbose) io.stdout('         (already in database)\n');
            continue;
          }
          const directory = join(appsDirectory, appName, version, platformDirectory);
          const versionXmlPath = join(directory, 'version.xml');
          const files: VersionFile[] = [];
          let apiVersion = '';
          let fileFlags = { dontThrottle: false, needsNetwork: false, isWrapper: false, beta: false };
          if (existsSync(versionXmlPath)) {
            const document = tryParseXml(readFileSync(versionXmlPath, 'latin1'));
            const root = document && findChild(document, 'version');
            if (!root) {
              io.stdout(`         Can't load XML file apps/${appName}/${version}/${platformDirectory}.  Check that it exists and is valid.`);
              throw new ProgramExit(255);
            }
            for (const file of findChildren(root, 'file')) {
              files.push({
                physicalName: (childText(file, 'physical_name') ?? '').trim(),
                logicalName: (childText(file, 'logical_name') ?? '').trim(),
                urls: findChildren(file, 'url').map((url) => textOf(url).trim()),
                mainProgram: boolElement(file, 'main_program'),
                copyFile: boolElement(file, 'copy_file'),
                gzip: boolElement(file, 'gzip'),
                present: false,
                executable: false,
                nbytes: 0,
                md5: '',
                gzippedNbytes: 0,
              });
            }
            apiVersion = childText(root, 'api_version') ?? '';
            fileFlags = {
              dontThrottle: boolElement(root, 'dont_throttle'),
              needsNetwork: boolElement(root, 'needs_network'),
              isWrapper: boolElement(root, 'is_wrapper'),
              beta: boolElement(root, 'beta'),
            };
          }
          const process = (name: string): void => {
            let file = files.find((candidate) => candidate.physicalName === name);
            if (!file) {
              file = { physicalName: name, logicalName: '', urls: [], mainProgram: false, copyFile: false, gzip: false, present: false, executable: false, nbytes: 0, md5: '', gzippedNbytes: 0 };
              files.push(file);
            }
            const path = join(directory, name);
            const stats = statSync(path);
            file.nbytes = stats.size;
            file.md5 = md5Of(path);
            if (!existsSync(`${path}.sig`)) {
              if (!existsSync(join(config.keyDir, 'code_sign_private'))) {
                io.stdout(`   Error: no .sig file for ${name}, and no code signing private key\n`);
                throw new ProgramExit(255);
              }
              if (confirm && !signatureConfirmed) {
                io.stdout('OK to continue (y/n)? ');
                if (readAnswer().trim() !== 'y') throw new ProgramExit(0);
                signatureConfirmed = true;
              }
            }
            const downloadPath = join(config.downloadDir, name);
            if (existsSync(downloadPath)) {
              if (md5Of(path) !== md5Of(downloadPath)) {
                io.stdout(`Error: files ${path} and ${downloadPath} differ.\nBOINC files are immutable.\nIf you change a file, you must give it a new name.\n`);
                throw new ProgramExit(255);
              }
            } else {
              mkdirSync(join(downloadPath, '..'), { recursive: true });
              copyFileSync(path, downloadPath);
            }
            if (file.gzip) {
              if (!existsSync(`${downloadPath}.gz`)) writeFileSync(`${downloadPath}.gz`, gzipSync(readFileSync(downloadPath)));
              file.gzippedNbytes = statSync(`${downloadPath}.gz`).size;
            }
            file.executable = (stats.mode & 0o100) !== 0;
            file.present = true;
          };
          for (const name of entries(directory)) {
            if (name === 'version.xml' || name.endsWith('.sig')) continue;
            if (statSync(join(directory, name)).isDirectory()) continue;
            process(name);
          }
          for (const file of [...files]) {
            if (!file.present && file.physicalName.includes('/')) process(file.physicalName);
          }
          const missing = files.filter((file) => !file.present);
          for (const file of missing) io.stdout(`   File ${file.physicalName} is listed in version.xml but not present\n`);
          if (missing.length > 0) continue;
          if (files.length === 1) files[0]!.mainProgram = true;
          const mains = files.filter((file) => file.mainProgram).length;
          if (mains === 0) {
            io.stdout('         No file was marked as the main program - skipping.\n');
            continue;
          }
          if (mains > 1) {
            io.stdout('         More than one file was marked as the main program - skipping.\n');
            continue;
          }
          if (confirm) {
            io.stdout(`Found new app version for: ${appName} ${version} ${platformDirectory}\n    Do you want to add this app version (y/n)? `);
            if (readAnswer().trim() !== 'y') continue;
          }
          const url = (name: string): string => `${config.downloadUrl}/${name}`;
          let xmlDoc = '';
          for (const file of files) {
            xmlDoc += `<file_info>\n    <name>${file.physicalName}</name>\n`;
            for (const each of file.urls.length > 0 ? file.urls : [url(file.physicalName)]) {
              xmlDoc += `    <url>${each}</url>\n${file.gzip ? `    <gzipped_url>${each}.gz</gzipped_url>\n` : ''}`;
            }
            if (file.executable || file.mainProgram) xmlDoc += '    <executable/>\n';
            xmlDoc += `    <file_signature>\nfake signature of ${file.md5}\n    </file_signature>\n    <nbytes>${file.nbytes}</nbytes>\n`;
            if (file.gzip) xmlDoc += `    <gzipped_nbytes>${file.gzippedNbytes}</gzipped_nbytes>\n`;
            xmlDoc += '</file_info>\n';
          }
          xmlDoc += `<app_version>\n    <app_name>${appName}</app_name>\n    <version_num>${versionNum}</version_num>\n`;
          if (apiVersion !== '') xmlDoc += `    <api_version>${apiVersion}</api_version>\n`;
          for (const file of files) {
            xmlDoc += `<file_ref>\n    <file_name>${file.physicalName}</file_name>\n`;
            if (file.logicalName !== '') xmlDoc += `    <open_name>${file.logicalName}</open_name>\n`;
            if (file.copyFile) xmlDoc += '    <copy_file/>\n';
            if (file.mainProgram) xmlDoc += '    <main_program/>\n';
            xmlDoc += '</file_ref>\n';
          }
          if (fileFlags.dontThrottle) xmlDoc += '    <dont_throttle/>\n';
          if (fileFlags.needsNetwork) xmlDoc += '    <needs_network/>\n';
          if (fileFlags.isWrapper) xmlDoc += '    <is_wrapper/>\n';
          xmlDoc += '</app_version>\n';
          const id = tables.appVersions.length + 1;
          const recordFiles: AppVersionFileRecord[] = files.map((file) => ({
            physicalName: file.physicalName,
            logicalName: file.logicalName,
            mainProgram: file.mainProgram,
            copyFile: file.copyFile,
            executable: file.executable,
            gzip: file.gzip,
            nbytes: file.nbytes,
            md5: file.md5,
          }));
          tables.appVersions.push({ id, appName, versionNum, platform: platformName, planClass, apiVersion, files: recordFiles, xmlDoc, createTime: Math.floor(Date.now() / 1000) });
          io.stdout(`    App version added successfully; ID=${id}\n`);
        }
      }
    }
    database.writeAppTables(tables);
  });
  touch(join(io.cwd, 'reread_db'));
}

/** The state `bin/start` keeps: `run_state_HOST.xml` (enabled) and the daemons it started, in `pid_HOST/`. */
export interface DaemonState {
  readonly enabled: boolean;
  readonly daemons: readonly { readonly cmd: string; readonly startedAt: number }[];
}

export function readDaemonState(projectDirectory: string, host = shortHostname()): DaemonState {
  const runState = join(projectDirectory, `run_state_${host}.xml`);
  const enabled = existsSync(runState) && /<enabled>\s*1\s*<\/enabled>/.test(readFileSync(runState, 'utf8'));
  const daemonsPath = join(projectDirectory, `pid_${host}`, 'daemons.json');
  const daemons = existsSync(daemonsPath) ? (JSON.parse(readFileSync(daemonsPath, 'utf8')) as DaemonState['daemons']) : [];
  return { enabled, daemons };
}

function serverPid(projectDirectory: string): number {
  try {
    const server = JSON.parse(readFileSync(join(projectDirectory, 'db', 'server.json'), 'utf8')) as { pid: number };
    return server.pid;
  } catch {
    return 0;
  }
}

/**
 * `bin/start` / `bin/stop` / `bin/status` (one program, by name, as BOINC's): `--enable` (start's
 * default) marks the project enabled and "starts" every daemon whose host is this host's short
 * name (`hostname -s`; the daemon's `<host>`, else config.xml's) and not disabled: it is recorded in
 * `pid_HOST/NAME.pid` (holding the pid of the process that runs the fake project's daemons, the
 * test's) and `pid_HOST/daemons.json`, and the fake project runs exactly those. None for this host:
 * "No daemons for this host found - check host name in config.xml". `--disable` (stop's default)
 * stops them. `--status` prints the state. Directories `tmp_HOST`, `log_HOST`, `pid_HOST` are made.
 */
export function runStartStop(program: 'start' | 'stop' | 'status', argv: readonly string[], io: CommandIo): void {
  let command: 'enable' | 'disable' | 'status' | 'cron' = program === 'start' ? 'enable' : program === 'stop' ? 'disable' : 'status';
  let verbose = false;
  for (const argument of argv) {
    if (argument === '-e' || argument === '--enable' || argument === '--start') command = 'enable';
    else if (argument === '-d' || argument === '--disable' || argument === '--stop' || argument === '-k' || argument === '--kill') command = 'disable';
    else if (argument === '-s' || argument === '--status') command = 'status';
    else if (argument === '-c' || argument === '--cron') command = 'cron';
    else if (argument === '-q' || argument === '--quiet') verbose = false;
    else if (argument === '-v' || argument === '--verbose') verbose = true;
    else {
      io.stderr(`option ${argument} not recognized\nUse '${program} --help' for help\n`);
      throw new ProgramExit(1);
    }
  }
  const found = findProjectDirectory(io.cwd, io.env);
  const projectDirectory = 'directory' in found ? found.directory : resolve(io.cwd, '..');
  const config = readProjectConfig(projectDirectory);
  const host = shortHostname();
  for (const name of [`tmp_${host}`, `log_${host}`, `pid_${host}`]) mkdirSync(join(projectDirectory, name), { recursive: true });
  const pidDirectory = join(projectDirectory, `pid_${host}`);
  const runStatePath = join(projectDirectory, `run_state_${host}.xml`);
  const state = readDaemonState(projectDirectory, host);
  const writeRunState = (enabled: boolean): void => {
    writeFileSync(runStatePath, `<?xml version="1.0" ?>\n<boinc>\n  <tasks>\n  </tasks>\n  <enabled>\n    ${enabled ? 1 : 0}\n  </enabled>\n</boinc>\n`);
  };
  const local = config.daemons.filter((daemon) => daemon.host === host);
  const baseName = (cmd: string): string => basename(cmd.trim().split(/\s+/)[0] ?? '');

  if (command === 'status') {
    io.stdout(state.enabled ? 'BOINC is ENABLED\n' : 'BOINC is DISABLED\n');
    if (verbose) {
      local.forEach((daemon, index) => {
        const running = state.daemons.some((started) => started.cmd === daemon.cmd);
        io.stdout(`  ${String(index + 1).padStart(2)} ${running ? ' running   ' : '           '} ${daemon.disabled ? ' yes    ' : ' no     '}  ${daemon.cmd}\n`);
      });
    }
    return;
  }
  if (command === 'disable') {
    if (verbose) io.stdout(state.enabled ? 'Entering DISABLED mode\n' : 'Staying in DISABLED mode\n');
    writeFileSync(join(projectDirectory, 'stop_sched'), '<stop/>\n');
    writeFileSync(join(projectDirectory, 'stop_daemons'), '<stop/>\n');
    for (const name of existsSync(pidDirectory) ? readdirSync(pidDirectory) : []) {
      if (name.endsWith('.pid') || name === 'daemons.json') rmSync(join(pidDirectory, name), { force: true });
    }
    writeRunState(false);
    return;
  }
  if (command === 'cron' && !state.enabled) return;
  if (verbose) io.stdout(state.enabled ? 'Staying in ENABLED mode\n' : 'Entering ENABLED mode\n');
  rmSync(join(projectDirectory, 'stop_daemons'), { force: true });
  const started = [...state.daemons];
  const pid = serverPid(projectDirectory);
  for (const daemon of local) {
    if (daemon.disabled) continue;
    if (started.some((each) => each.cmd === daemon.cmd)) {
      if (verbose) io.stderr(`  Daemon already running:  ${daemon.cmd}\n`);
      continue;
    }
    if (verbose) io.stdout(`  Starting daemon: ${daemon.cmd}\n`);
    writeFileSync(join(pidDirectory, `${baseName(daemon.cmd)}.pid`), `${pid}\n`);
    writeFileSync(join(projectDirectory, `log_${host}`, `${baseName(daemon.cmd)}.log`), `[${new Date().toISOString()}] Executing command: ${daemon.cmd}\n`, { flag: 'a' });
    started.push({ cmd: daemon.cmd, startedAt: Date.now() });
  }
  const daemonsPath = join(pidDirectory, 'daemons.json');
  const temporary = `${daemonsPath}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(started));
  renameSync(temporary, daemonsPath);
  if (local.length === 0 && command === 'enable') io.stdout('No daemons for this host found - check host name in config.xml\n');
  writeRunState(true);
  rmSync(join(projectDirectory, 'stop_sched'), { force: true });
}

/** `bin/stage_file [--gzip] [--copy] [--verbose] PATH`: moves (or copies) a file into the download hierarchy with its `.md5`. */
export function runStageFile(argv: readonly string[], io: CommandIo): void {
  const fail = (message: string): never => {
    io.stdout(message);
    throw new ProgramExit(1);
  };
  if (!existsSync(join(io.cwd, 'html', 'inc')) || !existsSync(join(io.cwd, 'config.xml'))) fail('This script must be run in the project directory.\n');
  const usage = 'usage: stage_file [--gzip] [--copy] path\n';
  const config = readProjectConfig(io.cwd);
  if (!config.fanout) fail("can't find <uldl_dir_fanout> in config.xml");
  if (argv.length < 1) fail(usage);
  let gzip = false;
  let copy = false;
  let verbose = false;
  for (const argument of argv.slice(0, -1)) {
    if (argument === '--gzip') gzip = true;
    else if (argument === '--copy') copy = true;
    else if (argument === '--verbose') verbose = true;
    else fail(usage);
  }
  const stage = (path: string): void => {
    if (!existsSync(path)) fail(`no such file: ${path}\n`);
    const name = basename(path);
    const downloadPath = dirHierPath(name, config.downloadDir, config.fanout);
    mkdirSync(join(downloadPath, '..'), { recursive: true });
    if (verbose) io.stdout(`staging ${name} to ${downloadPath}\n`);
    const state = checkDownloadFile(path, downloadPath);
    if (state === 1) {
      if (copy) copyFileSync(path, downloadPath);
      else renameSync(path, downloadPath);
      touch(`${downloadPath}.md5`);
    } else if (state === -1) {
      fail(`\nCan't stage input file ${path}:\nThere is a file in your project's download hierarchy,\n${downloadPath},\nwith the same name but different contents.\nThis is not allowed by BOINC.\n`);
    }
    if (gzip && !existsSync(`${downloadPath}.gz`)) writeFileSync(`${downloadPath}.gz`, gzipSync(readFileSync(downloadPath)));
  };
  const target = resolve(io.cwd, argv.at(-1) ?? '');
  if (existsSync(target) && statSync(target).isDirectory()) {
    for (const name of readdirSync(target)) if (statSync(join(target, name)).isFile()) stage(join(target, name));
  } else {
    stage(target);
  }
}

/** `bin/dir_hier_path NAME`: prints the file's path in the download hierarchy (making its directory). */
export function runDirHierPath(argv: readonly string[], io: CommandIo): void {
  if (argv.length !== 1 || argv[0] === '-h' || argv[0] === '--help') {
    io.stderr('usage: dir_hier_path filename\n');
    throw new ProgramExit(1);
  }
  const found = findProjectDirectory(io.cwd, io.env);
  if ('error' in found) {
    io.stderr(`${found.error}\n`);
    throw new ProgramExit(1);
  }
  const config = readProjectConfig(found.directory);
  const path = dirHierPath(argv[0]!, config.downloadDir, config.fanout);
  mkdirSync(join(path, '..'), { recursive: true });
  io.stdout(`${path}\n`);
}
