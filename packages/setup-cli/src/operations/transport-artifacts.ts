import type { TsmwProgram } from '@tsmw/transport-boinc';
import type { TemplateOptions } from './project-programs.js';

/** What tsmw-setup installs from the BOINC transport: its programs and its templates. */
export interface TransportArtifacts {
  /** Built, self-contained program files by role. */
  readonly programs: Readonly<Record<TsmwProgram, string>>;
  inputTemplate(app: string, options: TemplateOptions): string;
  outputTemplate(app: string, options: TemplateOptions): string;
}

/**
 * The transport's programs and template renderers. Undefined while the transport package does
 * not provide them (they arrive with the BOINC transport's on-server mode).
 */
export async function transportArtifacts(): Promise<TransportArtifacts | undefined> {
  return undefined;
}
