import { availableParallelism } from 'node:os';
import { assertBatchName, createMaster, InvalidArgumentError, type Master, type Transport } from '@tsmw/core';
import { createLocalTransport } from '@tsmw/transport-local';
import type { TransportSettings } from './transport-options.js';
import { UsageError } from './usage-error.js';

/** A started master, with what the reports say about where its tasks ran. */
export interface ExampleMaster {
  readonly master: Master;
  readonly transport: Transport;
  /** Worker threads of the local transport; `undefined` on BOINC (volunteers' hosts come and go). */
  readonly workers: number | undefined;
}

/** Checks the switches and makes the transport they name; refuses what cannot run with a `UsageError`. */
export function createExampleTransport(settings: TransportSettings): { transport: Transport; workers: number | undefined } {
  if (settings.batch !== undefined) {
    try {
      assertBatchName(settings.batch);
    } catch (error) {
      throw new UsageError(`--batch: ${InvalidArgumentError.isInstance(error) ? error.message : String(error)}`);
    }
  }
  if (settings.transport === 'boinc') {
    throw new UsageError('--transport boinc needs @tsmw/transport-boinc, which this release does not include yet; use --transport local');
  }
  if (settings.projectHome !== undefined || settings.url !== undefined || settings.authenticator !== undefined) {
    const given = settings.projectHome !== undefined ? '--project-home' : settings.url !== undefined ? '--url' : '--authenticator';
    throw new UsageError(`${given} is for --transport boinc; the local transport runs tasks on this machine`);
  }
  const workers = settings.workers ?? availableParallelism();
  if (!Number.isSafeInteger(workers) || workers < 1) throw new UsageError(`--workers must be a whole number >= 1, not ${settings.workers}`);
  return { transport: createLocalTransport({ workers }), workers };
}

/**
 * Starts a master on the transport the switches name, for the task module at `tasks` (a URL
 * beside the built example, as workers load it).
 */
export async function startExampleMaster(settings: TransportSettings, tasks: URL): Promise<ExampleMaster> {
  const { transport, workers } = createExampleTransport(settings);
  const master = await createMaster({ transport, tasks, ...(settings.batch === undefined ? {} : { batch: settings.batch }) });
  return { master, transport, workers };
}

/** Checks that a numeric switch is a whole number in range; the message names the switch. */
export function wholeNumber(value: number, name: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    const range = maximum === Number.MAX_SAFE_INTEGER ? `>= ${minimum}` : `from ${minimum} to ${maximum}`;
    throw new UsageError(`${name} must be a whole number ${range}, not ${value}`);
  }
  return value;
}
