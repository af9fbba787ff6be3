import { describe, expect, it } from 'vitest';
import { BoincRpcError, BoincXmlError, readBoincReply, readInteger, readText, readTexts, xmlChildElements } from '@tsmw/transport-boinc';
import { readFixture, readFixtureBytes } from '../../test/read-fixture.js';

const declaration = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n';

function xmlError(run: () => unknown): BoincXmlError {
  try {
    run();
  } catch (error) {
    if (BoincXmlError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a BoincXmlError');
}

function rpcError(run: () => unknown): BoincRpcError {
  try {
    run();
  } catch (error) {
    if (BoincRpcError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a BoincRpcError');
}

describe('readBoincReply on recorded replies', () => {
  it('reads ping_response.xml (trailing spaces after the end tag)', () => {
    const element = readBoincReply(readFixtureBytes('ping_response.xml'), 'ping');
    expect(readText(element, 'success', { operation: 'ping' })).toBe('1');
  });

  it('reads submit_batch_response.xml', () => {
    const element = readBoincReply(readFixtureBytes('submit_batch_response.xml'), 'submit_batch');
    expect(readInteger(element, 'batch_id', { operation: 'submit_batch' })).toBe(3);
  });

  it('reads query_batch_response.xml, whose PHP warnings sit after the start tag', () => {
    const element = readBoincReply(readFixtureBytes('query_batch_response.xml'), 'query_batch');
    expect(readText(element, 'name', { operation: 'query_batch' })).toBe('demo_batch_2');
    // The warnings are gone, not read as elements.
    expect(element['b']).toBeUndefined();
    expect(element['br']).toBeUndefined();
    const [job] = xmlChildElements(element, 'job');
    expect(job).toBeDefined();
    expect(readText(job ?? {}, 'status', { operation: 'query_batch' })).toBe('done');
  });
});

describe('readBoincReply tolerates what BOINC servers print', () => {
  it('PHP warnings (HTML) before the XML declaration', () => {
    const element = readBoincReply(readFixture('constructed/ping_warning_before_declaration.xml'), 'ping');
    expect(readTexts(element, 'success')).toEqual(['1']);
  });

  it('PHP diagnostics as plain text lines, before the declaration and inside the element', () => {
    const element = readBoincReply(readFixture('constructed/create_batch_text_warnings.xml'), 'create_batch');
    expect(readInteger(element, 'batch_id', { operation: 'create_batch' })).toBe(7);
    expect(element['#text']).toBeUndefined();
  });

  it('a byte-order mark, as bytes and as a string', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...readFixtureBytes('ping_response.xml')]);
    expect(readTexts(readBoincReply(bytes, 'ping'), 'success')).toEqual(['1']);
    expect(readTexts(readBoincReply(`\uFEFF${readFixture('ping_response.xml')}`, 'ping'), 'success')).toEqual(['1']);
  });

  it("abort_jobs' malformed <aborted NAME> elements", () => {
    const element = readBoincReply(readFixture('constructed/abort_jobs_response.xml'), 'abort_jobs');
    expect(readTexts(element, 'aborted')).toEqual(['job_a', 'job.b-2']);
    expect(readTexts(element, 'success')).toEqual(['1']);
  });

  it('BOINC debug-mode diagnostics (<error> without <error_num>) are noise, not errors', () => {
    const reply = `${declaration}<ping>\n<error>\n    <error_msg><![CDATA[Undefined index: x]]></error_msg>\n    <type>Notice</type>\n    <file>/x.php</file>\n    <line>3</line>\n</error>\n<success>1</success>\n</ping>\n`;
    expect(readTexts(readBoincReply(reply, 'ping'), 'success')).toEqual(['1']);
  });

  it('a template with its own XML declaration inside the reply', () => {
    const reply = `${declaration}<get_templates>\n<templates>\n<?xml version="1.0"?>\n<input_template></input_template>\n</templates>\n</get_templates>\n`;
    expect(xmlChildElements(readBoincReply(reply, 'get_templates'), 'templates')).toHaveLength(1);
  });

  it('keeps values as written: no number guessing, entities decoded', () => {
    const reply = `${declaration}<query_batch><name>1e5</name><app_name>a &amp; b &#60;c&#x3E;</app_name></query_batch>`;
    const element = readBoincReply(reply, 'query_batch');
    expect(readTexts(element, 'name')).toEqual(['1e5']);
    expect(readTexts(element, 'app_name')).toEqual(['a & b <c>']);
  });
});

describe("readBoincReply turns BOINC's <error> into BoincRpcError", () => {
  it('inside the operation element', () => {
    const error = rpcError(() => readBoincReply(readFixture('constructed/error_bad_authenticator.xml'), 'submit_batch'));
    expect(error).toMatchObject({ code: 'TSMW_BOINC_RPC', operation: 'submit_batch', errorNumber: -1, boincMessage: 'bad authenticator', isRetryable: false });
    expect(error.message).toContain('bad authenticator');
  });

  it('alone, before the start tag (an unparsable request), with the echoed request redacted', () => {
    const redact = (text: string) => text.split('00000000000000000000000000000000').join('[authenticator]');
    const error = rpcError(() => readBoincReply(readFixture('constructed/error_before_start_tag.xml'), 'submit_batch', { redact }));
    expect(error.boincMessage).toBe("can't parse request message: <submit_batch><authenticator>[authenticator]</authenticator><batch>");
    expect(error.message).not.toContain('0000000000');
  });

  it('with an unescaped message that breaks the XML around it', () => {
    const error = rpcError(() => readBoincReply(readFixture('constructed/error_unescaped_message.xml'), 'submit_batch'));
    expect(error.boincMessage).toBe("create_work failed: can't parse <input_template> & <b>x</b>");
  });

  it('marks the database and maintenance errors retryable', () => {
    const reply = `${declaration}<query_batch>\n<error>\n    <error_num>-183</error_num>\n    <error_msg>Project is temporarily offline</error_msg>\n</error>\n</query_batch>\n`;
    expect(rpcError(() => readBoincReply(reply, 'query_batch'))).toMatchObject({ errorNumber: -183, isRetryable: true });
  });

  it('job-level <error> words inside <job> are data, not an error reply', () => {
    const element = readBoincReply(readFixture('constructed/query_batch_details_response.xml'), 'query_batch');
    expect(readTexts(xmlChildElements(element, 'job')[0] ?? {}, 'error')).toEqual(['too_many_error_results']);
  });
});

describe('readBoincReply refuses what is not the reply, with a typed reason', () => {
  it.each([
    ['an empty body', '', 'ping', 'empty', true],
    ['only a declaration', declaration, 'ping', 'empty', true],
    ['an HTML error page', readFixture('constructed/html_error_page.html'), 'ping', 'html', true],
    ['a cut-off reply', readFixture('query_batch_response.xml').slice(0, 700), 'query_batch', 'truncated', true],
    ['a PHP fatal error', readFixture('constructed/php_fatal_error.xml'), 'query_completed_job', 'php-error', false],
    ["another operation's reply", readFixture('ping_response.xml'), 'query_batch', 'unexpected', false],
    ['broken XML inside', `${declaration}<ping><success>1</succ></ping>`, 'ping', 'malformed', false],
    ['a DOCTYPE', `${declaration}<ping><!DOCTYPE x [<!ENTITY a "b">]><success>&a;</success></ping>`, 'ping', 'malformed', false],
    ['nesting beyond the limit', `<ping>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</ping>`, 'ping', 'malformed', false],
    ['a prototype-polluting name', '<ping><__proto__>1</__proto__></ping>', 'ping', 'malformed', false],
  ] as const)('%s', (_what, body, operation, reason, retryable) => {
    const error = xmlError(() => readBoincReply(body, operation));
    expect(error.reason).toBe(reason);
    expect(error.operation).toBe(operation);
    expect(error.isRetryable).toBe(retryable);
  });

  it('names the page of an HTML reply', () => {
    const error = xmlError(() => readBoincReply(readFixture('constructed/html_error_page.html'), 'ping'));
    expect(error.message).toContain('500 Internal Server Error');
  });

  it('says what the PHP fatal error was', () => {
    const error = xmlError(() => readBoincReply(readFixture('constructed/php_fatal_error.xml'), 'query_completed_job'));
    expect(error.message).toContain('Fatal error');
    expect(error.message).toContain('Call to a member function lookup_id() on null');
  });

  it('refuses a reply over the cap before reading it', () => {
    const error = xmlError(() => readBoincReply(new Uint8Array(101), 'ping', { maxBytes: 100 }));
    expect(error.reason).toBe('too-large');
  });

  it('redacts excerpts of replies it cannot read', () => {
    const error = xmlError(() => readBoincReply('<html><title>secret-token here</title></html>', 'ping', { redact: (text) => text.replace('secret-token', '[authenticator]') }));
    expect(error.message).toContain('[authenticator] here');
    expect(error.message).not.toContain('secret-token');
  });
});
