// @tsmw/transport-boinc: runs tsmw tasks on a BOINC project.
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
