import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFixture } from '../test/read-fixture.js';
import { ClientRuntimeError } from './client-runtime-error.js';
import { parseInitData } from './init-data.js';

// Whatever a slot holds as init_data.xml, the reader ends in an InitData or a typed error:
// random text, mutations of the file a real client wrote, and soups of XML tokens.
const RUNS = Number(process.env['TSMW_PROPERTY_RUNS'] ?? 20_000);
const codes = new Set(['TSMW_BOINC_INIT_DATA_INVALID', 'TSMW_BOINC_INIT_DATA_TOO_LARGE']);
const sample = readFixture('init_data.xml').toString('utf8');

const tokens = [
  '<app_init_data>', '</app_init_data>', '<host_info>', '</host_info>', '<slot>', '</slot>', '<shm_key>-1</shm_key>', '<wu_name>', '</wu_name>',
  '<project_preferences>', '</project_preferences>', '<global_preferences>', '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '<!DOCTYPE a>',
  '&amp;', '&#x41;', '&#0;', '&bogus;', '&', '<', '>', '/>', '<__proto__>', '<constructor>', 'NaN', '1e308', '-0', '\uFEFF', '\u0000', '\n',
];

const mutated = fc
  .tuple(fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 6 }), fc.constantFrom('replace', 'cut', 'insert', 'delete')), { minLength: 1, maxLength: 6 }))
  .map(([edits]) => {
    let text = sample;
    for (const [position, value, kind] of edits) {
      const at = text.length === 0 ? 0 : position % text.length;
      if (kind === 'replace') text = text.slice(0, at) + value + text.slice(at + value.length);
      else if (kind === 'cut') text = text.slice(0, at);
      else if (kind === 'insert') text = text.slice(0, at) + value + text.slice(at);
      else text = text.slice(0, at) + text.slice(at + 1 + (position % 40));
    }
    return text;
  });

const anyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  mutated,
  fc.array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 6 })), { maxLength: 60 }).map((parts) => parts.join('')),
  fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((parts) => `<app_init_data>${parts.join('')}</app_init_data>`),
);

describe('parseInitData never crashes', () => {
  it(`${RUNS} random, mutated and token-soup files: an InitData or a typed error`, () => {
    fc.assert(
      fc.property(anyText, (text) => {
        try {
          const data = parseInitData(text);
          expect(typeof data.fractionDoneStart).toBe('number');
          expect(typeof data.workunitCpuTime).toBe('number');
        } catch (error) {
          if (!ClientRuntimeError.isInstance(error) || !codes.has(error.code)) throw error;
        }
      }),
      { numRuns: RUNS },
    );
  }, 600_000);

  it('every truncation of the real file is an InitData or a typed error', () => {
    for (let end = 0; end <= sample.length; end += 1) {
      try {
        parseInitData(sample.slice(0, end));
      } catch (error) {
        if (!ClientRuntimeError.isInstance(error) || !codes.has(error.code)) throw error;
      }
    }
  }, 600_000);
});
