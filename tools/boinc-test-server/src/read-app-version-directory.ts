import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BoincClientAppFile } from './boinc-client-harness.js';
import { BoincTestServerError } from './boinc-test-server-error.js';
import { childText, findChild, findChildren, parseXml } from './parse-xml.js';

/**
 * An app version as a BOINC client runs it when it is attached as an anonymous platform: spread
 * it into `createBoincClientHarness({ serverUrl, appName, versionNum, ...appVersion })`.
 */
export interface AppVersionForClient {
  /** `<api_version>` of version.xml; absent when it has none. */
  readonly apiVersion?: string;
  /** The version's files, each copied from the version directory. */
  readonly appFiles: (BoincClientAppFile & { readonly path: string })[];
}

/**
 * Reads an app version directory as a project has it (`apps/APP/VERSION/PLATFORM/`, with the
 * `version.xml` that `update_versions` reads) and describes it for a client's `app_info.xml`:
 * the same files and main program, the logical names as open names, `<copy_file/>` kept, each
 * file executable when its mode is. A project double cannot sign app versions, so a real client
 * runs them this way. A file that version.xml names but the directory lacks is an error.
 */
export async function readAppVersionDirectory(versionDirectory: string): Promise<AppVersionForClient> {
  const versionXmlPath = join(versionDirectory, 'version.xml');
  const version = findChild(parseXml(await readFile(versionXmlPath, 'utf8')), 'version');
  if (version === undefined) throw new BoincTestServerError('TSMW_BOINC_TEST_XML_INVALID', `${versionXmlPath} has no <version> element.`);
  const appFiles = await Promise.all(
    findChildren(version, 'file').map(async (file): Promise<BoincClientAppFile & { readonly path: string }> => {
      const name = childText(file, 'physical_name');
      // The name must stay a file of this directory.
      if (name === undefined || name === '' || basename(name) !== name) {
        throw new BoincTestServerError('TSMW_BOINC_TEST_XML_INVALID', `${versionXmlPath} has a <file> whose <physical_name> is ${JSON.stringify(name)}, not a file name.`);
      }
      const path = join(versionDirectory, name);
      const mode = (await stat(path)).mode;
      const openName = childText(file, 'logical_name');
      return {
        name,
        path,
        mainProgram: findChild(file, 'main_program') !== undefined,
        executable: (mode & 0o111) !== 0,
        ...(openName === undefined ? {} : { openName }),
        ...(findChild(file, 'copy_file') === undefined ? {} : { copyFile: true }),
      };
    }),
  );
  const apiVersion = childText(version, 'api_version');
  return { appFiles, ...(apiVersion === undefined ? {} : { apiVersion }) };
}
