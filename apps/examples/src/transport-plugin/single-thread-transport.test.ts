// The third-party example transport passes the same conformance suite as tsmw's own, using
// only public entry points. It runs against the built worker file (dist), as a user's would.
import { describeTransportConformance } from '@tsmw/core/testing';
import { createSingleThreadTransport } from '../../dist/transport-plugin/create-single-thread-transport.js';

describeTransportConformance('example single-thread transport', () => createSingleThreadTransport(), {
  parallelism: 1,
  scaleTasks: 10_000,
});
