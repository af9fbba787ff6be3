// The public API of @tsmw/transport-local.
export { createLocalTransport, type LocalTransportOptions } from './create-local-transport.js';
