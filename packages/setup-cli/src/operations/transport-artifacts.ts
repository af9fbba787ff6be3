import { DEFAULT_MAX_ENVELOPE_BYTES } from '@tsmw/core';
import { renderInputTemplate, renderOutputTemplate, tsmwProgramPaths, type TsmwProgram } from '@tsmw/transport-boinc';

/** What tsmw-setup installs from the BOINC transport: its programs and its default templates. */
export interface TransportArtifacts {
  /** Built, self-contained program files by role. */
  readonly programs: Readonly<Record<TsmwProgram, string>>;
  /** `templates/APP_in`: the task envelope as `in` (the transport writes per-batch variants with data files itself). */
  readonly inputTemplate: string;
  /** `templates/APP_out`: the result envelope as `out`, at most core's envelope cap. */
  readonly outputTemplate: string;
}

export function transportArtifacts(): TransportArtifacts {
  return {
    programs: tsmwProgramPaths(),
    inputTemplate: renderInputTemplate(),
    outputTemplate: renderOutputTemplate({ maxNbytes: DEFAULT_MAX_ENVELOPE_BYTES }),
  };
}
