// Phantom volunteers for a fake BOINC project: each new workunit's envelope is run in this process
// with the task module the master uses (its bundle, checked against the envelope's module hash
// as the client runtime checks it), and the result handed to the project as a host's upload. The
// project's validator and tsmw's real assimilator (installed by tsmw-setup) do the rest. A fast
// stand-in for BOINC clients: the transport's own e2e tests run a real one.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dirHierPath, type FakeBoincProject } from '@tsmw/boinc-test-server';
import { executeTaskEnvelope, indexTaskModule, type TaskRegistry } from '@tsmw/core';
import { bundleTaskModule, readProjectConfig } from '@tsmw/transport-boinc';

export interface PhantomVolunteers {
  /** Workunits run so far, by name. */
  readonly ran: ReadonlySet<string>;
  /** Failures of the volunteers themselves (a bad envelope, a module mismatch). */
  readonly errors: readonly unknown[];
  /** Leaves the workunits whose names match alone until `release()`: their tasks stay out. */
  hold(match: (workunitName: string) => boolean): void;
  release(): void;
  stop(): void;
}

export async function startPhantomVolunteers(project: FakeBoincProject, tasks: string | URL): Promise<PhantomVolunteers> {
  const bundle = await bundleTaskModule(tasks);
  const registry = await loadBundle(bundle.code);
  const config = await readProjectConfig(project.directory);
  const ran = new Set<string>();
  const errors: unknown[] = [];
  let stopped = false;
  let held: ((workunitName: string) => boolean) | undefined;
  let busy = false;
  const runOne = async (name: string, inputs: readonly { readonly name: string; readonly openName: string }[], copies: number): Promise<void> => {
    const files = new Map(inputs.map((file) => [file.openName, dirHierPath(file.name, config.downloadDirectory, config.fanout)]));
    const envelopePath = files.get('in');
    if (envelopePath === undefined) throw new Error(`workunit ${name} has no input opened as "in"`);
    const bytes = await readFile(envelopePath);
    const result = await executeTaskEnvelope(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), registry, {
      moduleHash: bundle.hash,
      readFile: async (_taskId, fileName) => {
        const path = files.get(fileName);
        if (path === undefined) throw new Error(`no input file opened as ${fileName}`);
        const data = await readFile(path);
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      },
    });
    project.injectResultFault(name, { outcome: 'success', outputs: [result] }, copies);
  };
  const tick = async (): Promise<void> => {
    if (busy || stopped) return;
    busy = true;
    try {
      for (const workunit of project.workunits()) {
        if (stopped) return;
        const name = workunit.name;
        if (ran.has(name) || workunit.errorMask !== 0 || workunit.canonicalResultId !== 0 || held?.(name) === true) continue;
        ran.add(name);
        await runOne(name, workunit.record.inputFiles, Math.max(1, workunit.record.targetNresults)).catch((error: unknown) => void errors.push(error));
      }
    } catch (error) {
      if (!stopped) errors.push(error);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 20);
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
