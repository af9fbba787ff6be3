import { describe, expect, it } from 'vitest';
import { dirHierDirectory, dirHierPath } from '@tsmw/transport-boinc';

describe('dirHierDirectory', () => {
  it('is the hex of md5 characters 1..7 modulo the fanout', () => {
    // md5("demo_in_1.json") = 806c9414b32e..., characters 1..7 = 06c9414 = 7116820; 7116820 % 1024 = 20 = 0x14
    expect(dirHierDirectory('demo_in_1.json')).toBe('14');
    // md5("demo_in_7.json") = 45f5759d7f45..., characters 1..7 = 5f5759d = 99972509; % 1024 = 413 = 0x19d
    expect(dirHierDirectory('demo_in_7.json', 1024)).toBe('19d');
    expect(dirHierDirectory('demo_in_7.json', 16)).toBe('d');
  });

  it('has no sub-directory for a fanout of 0, and refuses a negative fanout', () => {
    expect(dirHierDirectory('x', 0)).toBe('');
    expect(() => dirHierDirectory('x', -1)).toThrow(RangeError);
  });

  it('joins root, sub-directory and name', () => {
    expect(dirHierPath('/project/download', 'demo_in_1.json')).toBe('/project/download/14/demo_in_1.json');
  });
});
