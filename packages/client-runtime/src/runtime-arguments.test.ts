import { describe, expect, it } from 'vitest';
import { RuntimeArgumentsError, parseRuntimeArguments } from './runtime-arguments.js';

describe('parseRuntimeArguments', () => {
  it('defaults to the logical names of a tsmw app version', () => {
    expect(parseRuntimeArguments([])).toMatchObject({ input: 'in', output: 'out', tasks: 'tasks.mjs', checkpoint: 'tsmw_checkpoint', heartbeatTimeoutSeconds: 30 });
  });

  it('takes --name value and --name=value', () => {
    expect(parseRuntimeArguments(['--input', 'a', '--output=b', '--tasks', 't.mjs', '--max-envelope-bytes=1024', '--heartbeat-timeout', '2'])).toMatchObject({
      input: 'a',
      output: 'b',
      tasks: 't.mjs',
      maxEnvelopeBytes: 1024,
      heartbeatTimeoutSeconds: 2,
    });
  });

  it('refuses unknown arguments, missing values and bad numbers with one-line reasons', () => {
    expect(() => parseRuntimeArguments(['--verbose'])).toThrow(RuntimeArgumentsError);
    expect(() => parseRuntimeArguments(['--input'])).toThrow('--input needs a value');
    expect(() => parseRuntimeArguments(['--heartbeat-timeout', '-1'])).toThrow('--heartbeat-timeout needs a positive number; got "-1"');
  });
});
