// @tsmw/transport-boinc: the BOINC transport arrives in its own issue. What is here today is
// real and tested: where BOINC keeps a file in its upload/download hierarchy.
export { dirHierDirectory, dirHierPath, DEFAULT_UPLOAD_DOWNLOAD_FANOUT } from './on-server/dir-hier.js';
