import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { executeTaskEnvelope, indexTaskModule, type TaskRegistry } from '@tsmw/core';
import type { FakeBoincProject, FakeWorkunitView } from './create-fake-boinc-project.js';
import { dirHierPath } from './fake-project/dir-hier.js';
import { readProjectConfig } from './fake-project/project-config.js';

/** The task module the volunteers run: its bundled code and the hash every envelope names (transport-boinc's `bundleTaskModule`). */
export interface PhantomVolunteerBundle {
  readonly code: Uint8Array;
  readonly hash: string;
}

export interface PhantomVolunteerOptions {
  /** The bundle the project's app version ships (what a client would run). */
  readonly bundle: PhantomVolunteerBundle;
  /** The host outcome of each workunit (default `success`: the task is run and its result uploaded). */
  readonly outcome?: (workunitName: string) => 'success' | 'client-error' | 'no-reply';
  /** Run only the workunits whose name matches (default all). */
  readonly only?: (workunitName: string) => boolean;
  /** How often new workunits are looked for. Default 20 ms. */
  readonly intervalMs?: number;
}

export interface PhantomVolunteers {
  /** Workunits taken so far, by name. */
  readonly ran: ReadonlySet<string>;
  /** Failures of the volunteers themselves (an envelope they could not run): each also fails its workunit as a client error. */
  readonly errors: readonly unknown[];
  /** Leaves the workunits whose names match alone until `release()`: their tasks stay out. */
  hold(match: (workunitName: string) => boolean): void;
  release(): void;
  stop(): void;
}

/**
 * Phantom volunteers for a fake BOINC project: each new workunit's envelope is run in this process
 * with the app version's bundle (checked against the envelope's module hash, with the envelope
 * size cap from the job's command line, as the client runtime does), and its result handed to
 * the project as a host's upload (`injectResultFault`); the project's validator and tsmw's
 * assimilator do the rest. Jobs run side by side, as on many hosts: a long task does not hold
 * up the others. A fast stand-in for BOINC clients; the e2e tests run a real one.
 */
export async function startPhantomVolunteers(project: FakeBoincProject, options: PhantomVolunteerOptions): Promise<PhantomVolunteers> {
  const registry = await loadBundle(options.bundle.code);
  const config = readProjectConfig(project.directory);
  const ran = new Set<string>();
  const errors: unknown[] = [];
  let held: ((workunitName: string) => boolean) | undefined;
  let stopped = false;

  const fail = (name: string, record: { readonly maxErrorResults: number }, stderr: string): void => {
    if (!stopped) project.injectResultFault(name, { outcome: 'client-error', stderr }, record.maxErrorResults + 1);
  };

  const runJob = async (name: string, record: FakeWorkunitView['record']): Promise<void> => {
    const files = new Map(record.inputFiles.map((file) => [file.openName, dirHierPath(file.name, config.downloadDir, config.fanout)]));
    const envelopePath = files.get('in');
    if (envelopePath === undefined) throw new Error(`workunit ${name} has no input opened as "in"`);
    const buffer = await readFile(envelopePath);
    // As the client runtime does with the command line BOINC hands it.
    const cap = /--max-envelope-bytes (\d+)/.exec(record.commandLine)?.[1];
    const result = await executeTaskEnvelope(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), registry, {
      moduleHash: options.bundle.hash,
      ...(cap === undefined ? {} : { maxEnvelopeBytes: Number(cap) }),
      readFile: async (_taskId, fileName) => {
        const path = files.get(fileName);
        if (path === undefined) throw new Error(`no input file opened as ${fileName}`);
        const data = await readFile(path);
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      },
    });
    if (!stopped) project.injectResultFault(name, { outcome: 'success', outputs: [result] }, Math.max(1, record.targetNresults));
  };

  // Synchronous (jobs are started, not awaited), so one tick never overlaps the next.
  const tick = (): void => {
    if (stopped) return;
    for (const workunit of project.workunits()) {
      const name = workunit.name;
      if (ran.has(name) || workunit.errorMask !== 0 || workunit.canonicalResultId !== 0 || held?.(name) === true) continue;
      if (options.only !== undefined && !options.only(name)) continue;
      ran.add(name);
      const record = workunit.record;
      const outcome = options.outcome?.(name) ?? 'success';
      if (outcome !== 'success') {
        if (outcome === 'client-error') fail(name, record, `phantom host: ${name} crashed\n`);
        else project.injectResultFault(name, { outcome }, record.maxErrorResults + 1);
        continue;
      }
      runJob(name, record).catch((error: unknown) => {
        if (stopped) return;
        errors.push(error);
        fail(name, record, `phantom host: ${String(error)}\n`);
      });
    }
  };
  const timer = setInterval(tick, options.intervalMs ?? 20);
  return {
    ran,
    errors,
    hold(match) {
      held = match;
    },
    release() {
      held = undefined;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** Imports the bundle as a module file (deleted once imported) and indexes its tasks. */
async function loadBundle(code: Uint8Array): Promise<TaskRegistry> {
  const directory = await mkdtemp(join(tmpdir(), 'tsmw-phantom-volunteer-'));
  const path = join(directory, `tasks-${randomBytes(4).toString('hex')}.mjs`);
  await writeFile(path, code);
  try {
    return indexTaskModule(await import(pathToFileURL(path).href));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
