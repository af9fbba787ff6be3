import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { TsmwError } from '@tsmw/core';
import { escapeXmlText, isXmlText, readBoincReply } from '@tsmw/transport-boinc';
import { readFixture } from '../../test/read-fixture.js';
import {
  readAbortJobsReply,
  readBatchIdReply,
  readGetTemplatesReply,
  readPingReply,
  readQueryBatchChangesReply,
  readQueryBatchReply,
  readQueryCompletedJobReply,
  readQueryFilesReply,
  readQueryJobReply,
} from '../remote/submit-rpc-replies.js';
import { formatSubmitBatchRequest, type SubmitJob } from '../remote/submit-rpc-requests.js';

// Whatever a server (or anything between it and us) sends, the XML layer ends in a value or a
// typed error: never another exception, never a hang. Each property runs RUNS inputs: random
// text and bytes, mutations of recorded and constructed replies (bytes flipped, cut, inserted,
// deleted, spliced), and soups of the tokens BOINC replies are made of.
const RUNS = Number(process.env['TSMW_PROPERTY_RUNS'] ?? 20_000);
const replyCodes = new Set(['TSMW_BOINC_XML', 'TSMW_BOINC_RPC']);

const samples = [
  'ping_response.xml',
  'submit_batch_response.xml',
  'query_batch_response.xml',
  'constructed/abort_jobs_response.xml',
  'constructed/error_bad_authenticator.xml',
  'constructed/error_before_start_tag.xml',
  'constructed/error_unescaped_message.xml',
  'constructed/ping_warning_before_declaration.xml',
  'constructed/create_batch_text_warnings.xml',
  'constructed/query_batch2_response.xml',
  'constructed/query_completed_job_response.xml',
  'constructed/query_job_response.xml',
  'constructed/query_batch_details_response.xml',
  'constructed/query_files_response.xml',
  'constructed/get_templates_response.xml',
  'constructed/php_fatal_error.xml',
  'constructed/html_error_page.html',
].map((name) => readFixture(name));

const tokens = [
  '<?xml version="1.0" encoding="ISO-8859-1" ?>\n', '\uFEFF', '<ping>', '</ping>', '<query_batch>', '</query_batch>', '<query_batch2>', '</query_batch2>',
  '<job>', '</job>', '<id>', '</id>', '<name>', '</name>', '<status>', '</status>', '<batch_size>', '</batch_size>', '<server_time>', '</server_time>',
  '<error>', '</error>', '<error_num>', '</error_num>', '<error_msg>', '</error_msg>', '<success>1</success>', '<success/>', '<abort_jobs>', '</abort_jobs>',
  '<aborted x>', '<aborted >', '<br />\n', '<b>Warning</b>:  ', '<b>Fatal error</b>: ', ' in <b>/x.php</b> on line <b>3</b><br />', 'Deprecated: x in /y on line 4\n',
  '<![CDATA[', ']]>', '<!--', '-->', '<!DOCTYPE x>', '<!ENTITY a "b">', '&amp;', '&lt;', '&#x1F600;', '&#0;', '&#xD800;', '&nbsp;', '&', '<', '>',
  '-1', '3', '1e5', 'NaN', 'INF', '9'.repeat(30), 'done', 'DONE', '\n', '   ', '<html><title>t</title>', '<__proto__>', '<constructor>', '<a', '="x"', '/>',
];
const tokenSoup = fc.array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8 })), { maxLength: 60 }).map((parts) => parts.join(''));

const mutated = fc
  .tuple(
    fc.constantFrom(...samples),
    fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 6 }), fc.constantFrom('replace', 'cut', 'insert', 'delete', 'splice')), { minLength: 1, maxLength: 5 }),
  )
  .map(([base, edits]) => {
    let text = base;
    for (const [position, value, kind] of edits) {
      const at = text.length === 0 ? 0 : position % text.length;
      if (kind === 'replace') text = text.slice(0, at) + value + text.slice(at + value.length);
      else if (kind === 'cut') text = text.slice(0, at);
      else if (kind === 'insert') text = text.slice(0, at) + value + text.slice(at);
      else if (kind === 'delete') text = text.slice(0, at) + text.slice(at + 1 + (position % 40));
      else text = text.slice(0, at) + (samples[position % samples.length] ?? '') + text.slice(at);
    }
    return text;
  });

const anyReply: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
  mutated,
  mutated.map((text) => new TextEncoder().encode(text)),
  tokenSoup,
);

const readers: readonly [string, (body: string | Uint8Array) => unknown][] = [
  ['readBoincReply(ping)', (body) => readBoincReply(body, 'ping')],
  ['readBoincReply(query_batch)', (body) => readBoincReply(body, 'query_batch')],
  ['ping', (body) => readPingReply(body)],
  ['submit_batch', (body) => readBatchIdReply(body, 'submit_batch')],
  ['query_batch', (body) => readQueryBatchReply(body)],
  ['query_batch2', (body) => readQueryBatchChangesReply(body, ['a', 'b'])],
  ['query_job', (body) => readQueryJobReply(body)],
  ['query_completed_job', (body) => readQueryCompletedJobReply(body)],
  ['abort_jobs', (body) => readAbortJobsReply(body)],
  ['query_files', (body) => readQueryFilesReply(body, ['x', 'y', 'z'])],
  ['get_templates', (body) => readGetTemplatesReply(body)],
];

function expectTyped(read: (body: string | Uint8Array) => unknown, body: string | Uint8Array): void {
  try {
    const value = read(body);
    expect(value === undefined || typeof value === 'object' || typeof value === 'number').toBe(true);
  } catch (error) {
    if (!TsmwError.isInstance(error) || !replyCodes.has(error.code)) throw error;
  }
}

describe('BOINC reply readers never crash on hostile replies', () => {
  it(`${RUNS} random, mutated and token-soup replies through every reader`, () => {
    fc.assert(
      fc.property(anyReply, fc.constantFrom(...readers), (body, [, read]) => expectTyped(read, body)),
      { numRuns: RUNS },
    );
  }, 600_000);

  it('every sample survives every cut (truncation at each position)', () => {
    for (const sample of samples) {
      for (let end = 0; end <= sample.length; end += 1) {
        for (const [, read] of readers) expectTyped(read, sample.slice(0, end));
      }
    }
  }, 600_000);

  it('large pathological replies end (unclosed elements, endless warnings, open comments and CDATA)', () => {
    // Each is 1 MB; every search in the reader is linear, so these end in about a second in all.
    const size = 1_000_000;
    const bodies = [
      `<ping>${'<a>'.repeat(size / 3)}`,
      `<query_batch>${'<job><id>1</id>'.repeat(size / 15)}`,
      `<ping>${'<b>Warning</b>: x'.repeat(size / 17)}</ping>`,
      `<ping>${'<!--'.repeat(size / 4)}</ping>`,
      `<ping><![CDATA[${'x'.repeat(size)}</ping>`,
      `${'<error><error_num>1</error_num><error_msg>'.repeat(size / 43)}`,
      `<ping>${'&#x1F600;'.repeat(size / 9)}</ping>`,
      `<query_batch>${'<aborted x>'.repeat(size / 11)}</query_batch>`,
      `${'<?xml '.repeat(size / 6)}`,
      `<ping>${'<error><error_msg><![CDATA[x'.repeat(size / 29)}</ping>`,
      `<ping/>${'<!---->'.repeat(size / 7)}`,
      `<ping>${'<br />\n<b>Warning</b>: x in <b>/x</b> on line <b>3</b><br />\n<a>1</a>'.repeat(size / 60)}</ping>`,
    ];
    for (const body of bodies) for (const [, read] of readers) expectTyped(read, body);
  }, 600_000);
});

// A second parser, configured as a server would read a request (values untrimmed).
const serverParser = new XMLParser({ parseTagValue: false, trimValues: false, htmlEntities: true, isArray: () => true, ignoreAttributes: true });

describe('escaping round-trips', () => {
  it(`${RUNS} strings: escaped text reads back exactly, or the value is refused as XML cannot carry it`, () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ maxLength: 80 })), (value) => {
        let escaped: string;
        try {
          escaped = escapeXmlText(value);
        } catch (error) {
          expect(TsmwError.isInstance(error) && error.code === 'TSMW_INVALID_ARGUMENT').toBe(true);
          expect(isXmlText(value)).toBe(false);
          return;
        }
        const read = (serverParser.parse(`<v>${escaped}</v>`) as { v: unknown[] }).v[0];
        expect(read === undefined ? '' : read).toBe(value);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);

  it(`${Math.ceil(RUNS / 10)} batches: a submit_batch request holds exactly the names, command lines and inline contents given, or is refused`, () => {
    const job = fc.record({
      name: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.string({ maxLength: 10 })),
      commandLine: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
      source: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(job, { minLength: 1, maxLength: 5 }), (jobs) => {
        const submitJobs: SubmitJob[] = jobs.map((entry) => ({
          name: entry.name,
          inputFiles: [{ mode: 'inline', source: entry.source }],
          ...(entry.commandLine === undefined ? {} : { commandLine: entry.commandLine }),
        }));
        let xml: string;
        try {
          xml = formatSubmitBatchRequest('0123456789abcdef0123456789abcdef', { appName: 'app', batch: { batchName: 'b1' }, jobs: submitJobs });
        } catch (error) {
          expect(TsmwError.isInstance(error) && error.code === 'TSMW_INVALID_ARGUMENT').toBe(true);
          return;
        }
        const parsed = serverParser.parse(xml) as { submit_batch: [{ batch: [{ job: { name: [string]; command_line?: [string]; input_file: [{ source: [string] }] }[] }] }] };
        const read = parsed.submit_batch[0].batch[0].job;
        expect(read.map((entry) => entry.name[0])).toEqual(jobs.map((entry) => entry.name));
        expect(read.map((entry) => entry.command_line?.[0])).toEqual(jobs.map((entry) => entry.commandLine));
        expect(read.map((entry) => entry.input_file[0].source[0])).toEqual(jobs.map((entry) => entry.source));
      }),
      { numRuns: Math.ceil(RUNS / 10) },
    );
  }, 600_000);
});
