import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { Transport } from './transport-v1.js';

/** Checks that a value is a transport of a contract version this copy of tsmw speaks. */
export function assertTransport(value: unknown): asserts value is Transport {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError('createMaster needs a transport object, such as createLocalTransport()');
  }
  const candidate = value as Partial<Transport>;
  if (candidate.specificationVersion !== 'v1') {
    throw new InvalidArgumentError(
      `Transport specification version ${JSON.stringify(candidate.specificationVersion)} is not supported (this tsmw speaks v1)`,
    );
  }
  for (const method of ['doStart', 'doSubmit', 'doCancel', 'doReceive', 'doClose'] as const) {
    if (typeof candidate[method] !== 'function') {
      throw new InvalidArgumentError(`The transport ${String(candidate.transportId)} has no ${method} method`);
    }
  }
  if (typeof candidate.capabilities !== 'object' || candidate.capabilities === null) {
    throw new InvalidArgumentError(`The transport ${String(candidate.transportId)} declares no capabilities`);
  }
}
