export { ClientRuntimeError } from './client-runtime-error.js';
export type { ClientRuntimeErrorCode } from './client-runtime-error.js';
export { initDataFileName, parseInitData, readInitData, readInitDataSync } from './init-data.js';
export type { HostInfo, InitData } from './init-data.js';
export { resolveLogicalName, resolveSlotFile, writeFileAtomic, writeFileAtomicSync } from './slot.js';
export type { ResolveLogicalNameOptions, ResolvedSlotFile, SlotFileKind, WriteFileAtomicOptions } from './slot.js';
export {
  boincMmapFileName,
  boincMmapFileSize,
  channelOffsets,
  channelSize,
  createBoincChannel,
  formatScientific,
  formatStatusMessage,
  maxChannelMessageLength,
} from './boinc-channel.js';
export type { BoincChannel, BoincChannelOptions, ChannelName, ControlMessage, StatusUpdate } from './boinc-channel.js';
export { createStatusReporter } from './status-reporter.js';
export type { ClientGoneReason, StatusReporter, StatusReporterOptions } from './status-reporter.js';
export {
  finishCalledFileName,
  formatFinishCalled,
  formatTemporaryExit,
  maxTemporaryExitDelaySeconds,
  temporaryExitFileName,
  writeFinishCalled,
  writeTemporaryExit,
} from './exit-files.js';
export type { FinishCalledOptions, TemporaryExitOptions } from './exit-files.js';
export { createCheckpointFile, defaultCheckpointFileName } from './checkpoint-file.js';
export type { CheckpointFile, CheckpointFileOptions } from './checkpoint-file.js';
export { runtimeBundlePath } from './runtime-bundle-path.js';
