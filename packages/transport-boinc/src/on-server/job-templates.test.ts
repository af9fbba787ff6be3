import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderInputTemplate, renderOutputTemplate } from './job-templates.js';

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'file_info' || name === 'file_ref' });

describe('app templates', () => {
  it('open the envelope as in and each data file by its name, with no values that would override create_work', () => {
    const text = renderInputTemplate({ dataFileNames: ['data.txt', 'b-2.bin'] });
    const template = parser.parse(text).input_template;
    expect(template.file_info.map((info: { number: string }) => info.number)).toEqual(['0', '1', '2']);
    expect(template.workunit.file_ref.map((ref: { open_name: string; file_number: string }) => [ref.file_number, ref.open_name])).toEqual([
      ['0', 'in'],
      ['1', 'data.txt'],
      ['2', 'b-2.bin'],
    ]);
    expect(text).not.toMatch(/rsc_|delay_bound|min_quorum|target_nresults|command_line/);
    expect(renderInputTemplate()).toBe(renderInputTemplate({ dataFileNames: [] }));
  });

  it('refuse data file names a slot cannot hold', () => {
    for (const name of ['..', 'a/b', 'in', '', 'x y']) expect(() => renderInputTemplate({ dataFileNames: [name] })).toThrow();
    expect(() => renderInputTemplate({ dataFileNames: ['a', 'a'] })).toThrow(/twice/);
  });

  it('bound the one output, the result envelope opened as out', () => {
    const template = parser.parse(renderOutputTemplate({ maxNbytes: 1234 })).output_template;
    expect(template.file_info[0].max_nbytes).toBe('1234');
    expect(renderOutputTemplate({ maxNbytes: 1234 })).toContain('<open_name>out</open_name>');
    expect(renderOutputTemplate({ maxNbytes: 1234 })).toContain('<url><UPLOAD_URL/></url>');
    expect(() => renderOutputTemplate({ maxNbytes: 0 })).toThrow(/maxNbytes/);
  });
});
