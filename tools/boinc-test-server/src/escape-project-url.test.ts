import { describe, expect, it } from 'vitest';
import { escapeProjectUrl } from './escape-project-url.js';

describe('escapeProjectUrl', () => {
  it('matches the directory names the client 7.20.5 makes', () => {
    expect(escapeProjectUrl('http://127.0.0.1:41407/proj/')).toBe('127.0.0.1_41407_proj');
    expect(escapeProjectUrl('http://127.0.0.1/test/')).toBe('127.0.0.1_test');
    expect(escapeProjectUrl('https://example.org/a b/')).toBe('example.org_a_b');
  });
});
