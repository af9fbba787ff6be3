// @tsmw/core/testing: the reference in-memory transport and the transport conformance suite.
export { createInMemoryTransport, type InMemoryTransportOptions } from './in-memory-transport.js';
export { describeTransportConformance, type ConformanceOptions, type ConformanceGroup } from './conformance/describe-transport-conformance.js';
export type { DurableConformanceOptions } from './conformance/durable-group.js';
export { createFileTransport, runFileTransportTasks, countFileTransportWork, type FileTransportOptions } from './file-transport.js';
export { conformanceTasksUrl } from './conformance/conformance-tasks-url.js';
