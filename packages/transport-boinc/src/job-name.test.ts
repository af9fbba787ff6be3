import { describe, expect, it } from 'vitest';
import { dataFileName, envelopeFileName, formatJobName, jobKeyToken, parseJobName, parseOutputFileName } from './job-name.js';

describe('job names', () => {
  it('are readable for map keys and read back', () => {
    const name = formatJobName('pi-2026_11', jobKeyToken('17', 'ignored'), 1);
    expect(name).toBe('tsmw_pi-2026_11_k17_a1');
    expect(parseJobName(name)).toEqual({ batch: 'pi-2026_11', keyToken: 'k17', attempt: 1 });
  });

  it('hash keys that are not safe in a file name, and use the task id without a key', () => {
    const hashed = jobKeyToken('images/α_1.png', 't');
    expect(hashed).toMatch(/^h[0-9a-f]{32}$/);
    expect(jobKeyToken('images/α_1.png', 'other')).toBe(hashed);
    expect(jobKeyToken('a_b', 't')).not.toBe(jobKeyToken('a-b', 't'));
    expect(jobKeyToken(undefined, 'mkb1-3f')).toBe('tmkb1-3f');
    expect(jobKeyToken(undefined, 'x/y')).toMatch(/^u[0-9a-f]{32}$/);
    expect(jobKeyToken('x'.repeat(65), 't')).toMatch(/^h/);
  });

  it('are deterministic and differ by batch, key and attempt', () => {
    const names = new Set<string>();
    for (const batch of ['a', 'a_k1', 'b']) for (const key of ['1', '2', 'k1']) for (const attempt of [1, 2]) names.add(formatJobName(batch, jobKeyToken(key, ''), attempt));
    expect(names.size).toBe(18);
    expect(formatJobName('a', 'k1', 2)).toBe(formatJobName('a', 'k1', 2));
  });

  it('stay unambiguous when the batch name looks like a job name', () => {
    const name = formatJobName('x_kA_a1', 'kB', 3);
    expect(parseJobName(name)).toEqual({ batch: 'x_kA_a1', keyToken: 'kB', attempt: 3 });
  });

  it('refuse what they cannot carry', () => {
    expect(() => formatJobName('../up', 'k1', 1)).toThrow(/not a valid batch name/);
    expect(() => formatJobName('b', 'k1/2', 1)).toThrow(/not a job key token/);
    expect(() => formatJobName('b', 'k1', 0)).toThrow(/attempt/);
    expect(parseJobName('other_app_42')).toBeUndefined();
    expect(parseJobName('tsmw_../x_k1_a1')).toBeUndefined();
    expect(parseJobName('tsmw_b_k1_a0')).toBeUndefined();
  });

  it('are read back from output file names in both server forms', () => {
    expect(parseOutputFileName('tsmw_pi_k3_a2_0_0')).toEqual({ batch: 'pi', keyToken: 'k3', attempt: 2, jobName: 'tsmw_pi_k3_a2', resultNumber: 0, fileIndex: 0 });
    expect(parseOutputFileName('tsmw_pi_k3_a2_1_r1804289383_0')).toMatchObject({ jobName: 'tsmw_pi_k3_a2', resultNumber: 1, fileIndex: 0 });
    expect(parseOutputFileName('tsmw_my_batch_h0123456789abcdef0123456789abcdef_a1_0_r5a_2')).toMatchObject({ batch: 'my_batch', fileIndex: 2 });
    for (const bad of ['tsmw_pi_k3_a2', 'tsmw_pi_k3_a2_0', '../tsmw_pi_k3_a2_0_0', 'tsmw_pi_k3_a2_0_0/../../x', 'tsmw_.._k3_a2_0_0', 'tsmw_pi_k3_a2_0_0\n', 'x_0_0']) {
      expect(parseOutputFileName(bad)).toBeUndefined();
    }
  });

  it('name staged files', () => {
    expect(envelopeFileName('tsmw_pi_k3_a2')).toBe('tsmw_pi_k3_a2.in');
    expect(dataFileName('pi', 'a'.repeat(64))).toBe(`tsmw_pi_f${'a'.repeat(40)}`);
    expect(() => dataFileName('pi', 'xyz')).toThrow();
  });
});
