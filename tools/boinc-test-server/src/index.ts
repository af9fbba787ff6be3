export { createBoincTestServer } from './boinc-test-server.js';
export type {
  AddedBoincTestJob,
  BoincTestJob,
  BoincTestJobInputFile,
  BoincTestJobOutputFile,
  BoincTestJobState,
  BoincTestServer,
  BoincTestServerOptions,
  ReportedResult,
  SchedulerRpcRecord,
  UploadRecord,
  WaitOptions,
} from './boinc-test-server.js';
export { createBoincClientHarness, findBoincClient, findBoinccmd, parseBoinccmdTasks } from './boinc-client-harness.js';
export type { BoincClientAppFile, BoincClientHarness, BoincClientHarnessOptions, BoincClientTask } from './boinc-client-harness.js';
export { BoincTestServerError } from './boinc-test-server-error.js';
export type { BoincTestServerErrorCode } from './boinc-test-server-error.js';
export { escapeProjectUrl } from './escape-project-url.js';
export { readAppVersionDirectory } from './read-app-version-directory.js';
export { startPhantomVolunteers } from './start-phantom-volunteers.js';
export type { PhantomVolunteerBundle, PhantomVolunteerOptions, PhantomVolunteers } from './start-phantom-volunteers.js';
export type { AppVersionForClient } from './read-app-version-directory.js';
export { parseSchedulerRequest, SchedulerRequestParseError, clientResultStateName } from './scheduler-request.js';
export type { ClientResultState, ReportedResultMessage, ResultOutcome, SchedulerRequestMessage } from './scheduler-request.js';
export { renderSchedulerReply } from './scheduler-reply.js';
export type { ReplyInputFile, ReplyJob, ReplyOutputFile, SchedulerReplyOptions } from './scheduler-reply.js';
export { createUploadHandler } from './upload-handler.js';
export type { DataServerResponse, DataServerStatus, ExpectedUpload, UploadHandler, UploadHandlerOptions } from './upload-handler.js';
export {
  parseXml,
  tryParseXml,
  findChild,
  findChildren,
  findDescendant,
  childText,
  childNumber,
  childFlag,
  textOf,
  escapeXmlText,
  escapeXmlAttribute,
  xmlElement,
} from './parse-xml.js';
export type { ParseXmlOptions, XmlElement, XmlNode } from './parse-xml.js';
export { createFakeBoincProject } from './create-fake-boinc-project.js';
export type {
  AssimilatorRun,
  FakeBatch,
  FakeBoincApp,
  FakeBoincProject,
  FakeBoincProjectCounters,
  FakeBoincProjectOptions,
  FakeBoincUser,
  FakeProjectCall,
  FakeProjectProgram,
  FakeWorkunitView,
  RemoteFault,
  ResultFault,
  ValidatorRun,
} from './create-fake-boinc-project.js';
export { dirHierDirectory, dirHierPath, dirHierUrl, DEFAULT_FANOUT } from './fake-project/dir-hier.js';
export { parseCommandLine } from './fake-project/parse-command-line.js';
export { WorkunitError, ResultOutcome as ResultOutcomeCode, ResultServerState, ValidateState, AssimilateState } from './fake-project/project-daemons.js';
