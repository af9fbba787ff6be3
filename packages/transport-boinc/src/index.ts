// @tsmw/transport-boinc: runs tsmw tasks on a BOINC project.
export { createBoincTransport, BoincTransport, type BoincTransportOptions, type BoincOnServerOptions, type BoincRemoteOptions, type BoincTransportCommonOptions } from './create-boinc-transport.js';
export { dirHierDirectory, dirHierPath, DEFAULT_UPLOAD_DOWNLOAD_FANOUT } from './on-server/dir-hier.js';

// The layout and records tsmw keeps in a BOINC project, shared with tsmw-setup.
export {
  tsmwProjectLayout,
  tsmwProgramNames,
  tsmwPlatforms,
  appNamePattern,
  assertAppName,
  formatVersionNum,
  parseVersionDirectory,
  taskModuleFileName,
  type TsmwProjectLayout,
  type TsmwProgram,
  type TsmwPlatform,
} from './project/tsmw-project-layout.js';
export {
  readAppManifest,
  parseAppManifest,
  writeAppManifest,
  formatAppManifest,
  findAppVersionForModule,
  type TsmwAppManifest,
  type TsmwAppVersionRecord,
  type NodeProvision,
} from './project/app-manifest.js';
export { bundleTaskModule, listBundleTasks, taskModuleBundleTarget, type TaskModuleBundle } from './project/bundle-task-module.js';

// Errors
export { BoincProjectError } from './errors/boinc-project-error.js';
export { TaskModuleBundleError } from './errors/task-module-bundle-error.js';

// Job names and the batch store.
export { formatJobName, parseJobName, parseOutputFileName, jobKeyToken, envelopeFileName, dataFileName, type JobNameParts, type OutputFileNameParts } from './job-name.js';
export { BatchStore, storedTaskKey, type BatchStoreOptions, type StoredTask, type StoredTaskState, type StoredFailure, type NewTaskRecord, type ChunkRecord, type BatchCounts } from './store/batch-store.js';
export { describeErrorMask, formatJobFailure, workunitErrorBits } from './error-mask.js';
export { BatchStoreError } from './errors/batch-store-error.js';
export { BatchInUseError } from './errors/batch-in-use-error.js';
export { SqliteUnavailableError } from './errors/sqlite-unavailable-error.js';
export { CreateWorkError } from './errors/create-work-error.js';
export { AppVersionNotDeployedError } from './errors/app-version-not-deployed-error.js';
export { BoincJobFailedError } from './errors/boinc-job-failed-error.js';

// The programs tsmw-setup installs into a project, and the templates it writes.
export { tsmwProgramPaths } from './program-paths.js';
export { renderInputTemplate, renderOutputTemplate, envelopeOpenName, resultOpenName, type InputTemplateOptions, type OutputTemplateOptions } from './on-server/job-templates.js';
export { runAssimilator, assimilatorExit, type InboxErrorRecord, type AssimilatorIo } from './programs/run-assimilator.js';
export { runValidatorInit, runValidatorCompare, resultsMatch, validatorExit, type ValidatorIo } from './programs/run-validator.js';
export { structurallyEqual } from './structurally-equal.js';
export { checkJobOptions, resolveJobOptions, createWorkArguments, boincOptionNames, type BoincJobOptions } from './job-options.js';
export { readProjectConfig, parseProjectConfig, type BoincProjectConfig } from './on-server/project-config.js';

// BOINC's remote job submission: the typed client (submit_rpc_handler.php, job_file.php, get_output2/3.php).
export { createSubmitRpcClient } from './remote/submit-rpc-client.js';
export type {
  SubmitRpcClient,
  SubmitRpcClientOptions,
  SubmitRpcCallOptions,
  SubmitRpcLogEntry,
  BatchReference,
  BatchSubmission,
  BatchJob,
  JobInputFile,
  JobParameters,
  SubmittedBatch,
  BatchState,
  BatchStatus,
  BatchJobStatus,
  JobStatus,
  BatchChanges,
  JobChangeStatus,
  JobInstance,
  CompletedJob,
  AppTemplates,
  UploadFile,
  UploadedFiles,
  DownloadOutputOptions,
} from './remote/submit-rpc-types.js';
export { formatJobInputTemplate, formatJobOutputTemplate, type JobInputTemplateOptions, type JobOutputTemplateOptions, type WorkunitParameters } from './remote/job-templates.js';
export { jobFileName } from './remote/job-file-name.js';
export { BoincRequestError, type BoincRequestErrorReason } from './remote/boinc-request-error.js';
export { BoincOutputError } from './remote/boinc-output-error.js';

// The XML helpers of transport-boinc: tolerant reading of BOINC's replies, escaped building.
export { readBoincReply, stripPhpDiagnostics, defaultMaxReplyBytes, type ReadBoincReplyOptions } from './xml/read-boinc-reply.js';
export { parseXmlElement, type ParseXmlOptions } from './xml/parse-xml.js';
export {
  xmlChildren,
  xmlChildElements,
  xmlChildText,
  hasXmlChild,
  readText,
  readOptionalText,
  readTexts,
  readNumber,
  readOptionalNumber,
  readInteger,
  readOptionalInteger,
  readIntegers,
  type XmlChild,
  type XmlElementNode,
  type XmlReadContext,
} from './xml/xml-node.js';
export { xmlElement, xmlLeaf, xmlEmpty, xmlTrusted, formatXmlNumber, type XmlFragment, type XmlContent, type XmlValue, type XmlLayoutOptions } from './xml/xml-builder.js';
export { escapeXmlText, isXmlText, xmlNamePattern } from './xml/xml-text.js';
export { BoincXmlError, type BoincXmlErrorReason } from './xml/boinc-xml-error.js';
export { BoincRpcError } from './xml/boinc-rpc-error.js';
