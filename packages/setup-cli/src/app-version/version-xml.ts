import { escapeXmlText } from '../project-files/xml-document.js';

/**
 * The `<api_version>` every tsmw app version declares: with it (>= 6.0) the client shares the
 * `boinc_mmap_file` status channel with the runtime; without it the client falls back to SysV
 * shared memory, which Node cannot attach.
 */
export const tsmwApiVersion = '7.20.0';

/** One file of an app version, as `version.xml` describes it. */
export interface VersionFile {
  readonly physicalName: string;
  readonly logicalName?: string;
  readonly mainProgram?: boolean;
  /** Served compressed: `update_versions` writes `download/NAME.gz` and the client decompresses it (`<gzipped_url>`). */
  readonly gzip?: boolean;
  readonly copyFile?: boolean;
}

/** `apps/APP/VERSION/PLATFORM/version.xml` as BOINC's `update_versions` reads it. */
export function formatVersionXml(files: readonly VersionFile[], apiVersion = tsmwApiVersion): string {
  const lines = ['<version>'];
  for (const file of files) {
    lines.push('    <file>', `        <physical_name>${escapeXmlText(file.physicalName)}</physical_name>`);
    if (file.logicalName !== undefined) lines.push(`        <logical_name>${escapeXmlText(file.logicalName)}</logical_name>`);
    if (file.mainProgram === true) lines.push('        <main_program/>');
    if (file.copyFile === true) lines.push('        <copy_file/>');
    if (file.gzip === true) lines.push('        <gzip/>');
    lines.push('    </file>');
  }
  lines.push(`    <api_version>${escapeXmlText(apiVersion)}</api_version>`, '</version>', '');
  return lines.join('\n');
}
