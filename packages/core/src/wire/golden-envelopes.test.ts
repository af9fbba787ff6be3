import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeResultEnvelope,
  decodeTaskEnvelope,
  encodeResultEnvelope,
  encodeTaskEnvelope,
  type ResultEnvelope,
  type TaskEnvelope,
} from '@tsmw/core';

// Golden bytes: the committed fixtures ARE the wire format. If a change to tsmw alters these
// bytes, this test fails; a deliberate format change needs a new format version, then
// `TSMW_UPDATE_GOLDEN=1 npx vitest run golden` to rewrite the fixtures.
const fixture = (name: string): URL => new URL(`../../test/fixtures/${name}`, import.meta.url);

const taskEnvelope: TaskEnvelope = {
  kind: 'tsmw-task',
  version: 1,
  taskId: 'mwa1b2c3-0',
  taskName: 'pi',
  moduleHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  attempt: 1,
  input: {
    darts: 10_000_000,
    seed: -42,
    ratio: 0.25,
    label: 'héllo 日本 🚀',
    flags: [true, false, null],
    bytes: new Uint8Array([0, 1, 254, 255]),
    nested: { deep: { list: [1, [2, [3]]] } },
    when: new Date(Date.UTC(2026, 10, 25, 12, 0, 0)),
  },
  deadline: 1_795_000_000_000,
  fileNames: ['data.bin'],
};

const okResult: ResultEnvelope = {
  kind: 'tsmw-result',
  version: 1,
  taskId: 'mwa1b2c3-0',
  attempt: 1,
  ok: true,
  output: { hits: 7_853_981, darts: 10_000_000 },
  timing: { startedAt: 1_795_000_000_123, wallMs: 812.5, cpuMs: 810.25 },
  console: [
    { stream: 'stdout', text: 'starting' },
    { stream: 'stderr', text: 'a warning' },
  ],
  host: { hostname: 'volunteer-1', platform: 'linux', arch: 'x64', runtime: 'node 20.20.2' },
};

const errorResult: ResultEnvelope = {
  kind: 'tsmw-result',
  version: 1,
  taskId: 'mwa1b2c3-1',
  attempt: 2,
  ok: false,
  error: {
    name: 'RangeError',
    message: 'darts must be positive',
    code: 'E_DARTS',
    stack: 'RangeError: darts must be positive\n    at pi (tasks.js:3:11)',
    cause: { name: 'TypeError', message: 'not a number' },
    retryable: true,
  },
  timing: { startedAt: 1_795_000_000_456, wallMs: 1, cpuMs: 0.5 },
};

const cases = [
  { name: 'task-envelope.msgpack', encode: () => encodeTaskEnvelope(taskEnvelope), decode: decodeTaskEnvelope, value: taskEnvelope },
  { name: 'result-envelope-ok.msgpack', encode: () => encodeResultEnvelope(okResult), decode: decodeResultEnvelope, value: okResult },
  { name: 'result-envelope-error.msgpack', encode: () => encodeResultEnvelope(errorResult), decode: decodeResultEnvelope, value: errorResult },
] as const;

describe('golden envelope bytes', () => {
  for (const golden of cases) {
    it(`${golden.name}: encoding gives the committed bytes`, () => {
      const bytes = golden.encode();
      if (process.env['TSMW_UPDATE_GOLDEN'] === '1' || !existsSync(fixture(golden.name))) {
        if (process.env['CI'] === 'true') throw new Error(`Golden fixture ${golden.name} is missing`);
        writeFileSync(fixture(golden.name), bytes);
      }
      expect(Buffer.from(bytes).toString('hex')).toBe(readFileSync(fixture(golden.name)).toString('hex'));
    });
    it(`${golden.name}: the committed bytes decode to the envelope`, () => {
      const decoded = golden.decode(new Uint8Array(readFileSync(fixture(golden.name))));
      expect(decoded).toEqual(golden.value);
    });
  }

  it('is plain MessagePack: a map with string keys, no msgpackr extensions', () => {
    const bytes = readFileSync(fixture('task-envelope.msgpack'));
    expect(bytes[0]! & 0xf0).toBe(0x80); // fixmap
    // 0xd4-0xd8 / 0xc7-0xc9 are ext types; the only one allowed is the timestamp (type -1 = 0xff).
    const hex = bytes.toString('hex');
    expect(hex).not.toContain('d472'); // msgpackr records
    expect(hex.includes('d6ff') || hex.includes('d7ff') || hex.includes('c70cff')).toBe(true); // the date
    expect(bytes.includes(Buffer.from('kind'))).toBe(true);
    expect(bytes.includes(Buffer.from('tsmw-task'))).toBe(true);
  });
});
