import { createInMemoryTransport, describeTransportConformance } from '@tsmw/core/testing';

describeTransportConformance('in-memory', () => createInMemoryTransport({ concurrency: 4 }), { parallelism: 4 });
