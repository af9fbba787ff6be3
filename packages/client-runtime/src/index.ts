// @tsmw/client-runtime: the program a BOINC client starts to run one tsmw task. What users need
// from the library is where that program is and which version it is; its building blocks (slot
// files, the shared-memory channel, exit files) are internal and may change in any release.
export { runtimeBundlePath } from './runtime-bundle-path.js';
export { runtimeVersion } from './runtime-version.js';
export { ClientRuntimeError } from './client-runtime-error.js';
export type { ClientRuntimeErrorCode } from './client-runtime-error.js';
