import { describeTransportConformance } from '@tsmw/core/testing';
import { createLocalTransport } from './create-local-transport.js';

describeTransportConformance('local (thread)', () => createLocalTransport({ workers: 2 }), { parallelism: 2 });

describeTransportConformance('local (process)', () => createLocalTransport({ workers: 2, isolation: 'process' }), { parallelism: 2 });
