import { InvalidArgumentError } from '@tsmw/core';
import { escapeXml } from '../escape-xml.js';

/** The open name of the task envelope in a slot: what the client runtime reads by default. */
export const envelopeOpenName = 'in';
/** The open name of the result envelope in a slot: what the client runtime writes by default. */
export const resultOpenName = 'out';

const dataFileNamePattern = /^(?!\.\.?$)[\w.-]{1,255}$/;

export interface InputTemplateOptions {
  /** The open names of the task's data files (what `context.file(name)` reads), after the envelope. Default none. */
  readonly dataFileNames?: readonly string[];
}

/**
 * The input template of a tsmw app (BOINC's `templates/APP_in`): file 0 is the task envelope,
 * opened as `in`; files 1.. are the task's data files, opened by their names. It carries no
 * `rsc_*`, `delay_bound` or quorum elements: BOINC lets a template's values override
 * `create_work`'s arguments, and tsmw passes those per chunk of jobs.
 */
export function renderInputTemplate(options: InputTemplateOptions = {}): string {
  const names = options.dataFileNames ?? [];
  const seen = new Set<string>([envelopeOpenName]);
  for (const name of names) {
    if (typeof name !== 'string' || !dataFileNamePattern.test(name)) throw new InvalidArgumentError(`Data file name ${JSON.stringify(name)} cannot be an open name in a BOINC slot`);
    if (seen.has(name)) throw new InvalidArgumentError(`Data file name ${JSON.stringify(name)} is given twice (or is the envelope's "in")`);
    seen.add(name);
  }
  const openNames = [envelopeOpenName, ...names];
  const lines = ['<input_template>'];
  openNames.forEach((_, index) => lines.push(`  <file_info>`, `    <number>${index}</number>`, `  </file_info>`));
  lines.push('  <workunit>');
  openNames.forEach((name, index) => {
    lines.push('    <file_ref>', `      <file_number>${index}</file_number>`, `      <open_name>${escapeXml(name)}</open_name>`, '    </file_ref>');
  });
  lines.push('  </workunit>', '</input_template>', '');
  return lines.join('\n');
}

export interface OutputTemplateOptions {
  /** The largest result envelope a host may upload, in bytes (BOINC requires a bound). */
  readonly maxNbytes: number;
}

/** The output template of a tsmw app (BOINC's `templates/APP_out`): one output, the result envelope, opened as `out`. */
export function renderOutputTemplate(options: OutputTemplateOptions): string {
  const maxNbytes = options.maxNbytes;
  if (typeof maxNbytes !== 'number' || !Number.isSafeInteger(maxNbytes) || maxNbytes < 1) {
    throw new InvalidArgumentError(`maxNbytes must be a whole number of bytes >= 1, not ${String(maxNbytes)}`);
  }
  return [
    '<output_template>',
    '  <file_info>',
    '    <name><OUTFILE_0/></name>',
    '    <generated_locally/>',
    '    <upload_when_present/>',
    `    <max_nbytes>${maxNbytes}</max_nbytes>`,
    '    <url><UPLOAD_URL/></url>',
    '  </file_info>',
    '  <result>',
    '    <file_ref>',
    '      <file_name><OUTFILE_0/></file_name>',
    `      <open_name>${resultOpenName}</open_name>`,
    '    </file_ref>',
    '  </result>',
    '</output_template>',
    '',
  ].join('\n');
}
