import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseProjectConfig } from './project-config.js';

describe('config.xml', () => {
  it('reads the recorded project configuration', async () => {
    const text = await readFile(new URL('../../test/fixtures/project/config.xml', import.meta.url), 'utf8');
    expect(parseProjectConfig(text, '/srv/p')).toEqual({
      fanout: 1024,
      downloadDirectory: '/home/boincadm/projects/test/download',
      uploadDirectory: '/home/boincadm/projects/test/upload',
      masterUrl: 'http://127.0.0.1/test/',
      host: 'vm',
    });
  });

  it('takes BOINC defaults for what is absent, and resolves relative directories against the project', () => {
    expect(parseProjectConfig('<boinc><config><download_dir>dl</download_dir></config></boinc>', '/srv/p')).toMatchObject({ fanout: 1024, downloadDirectory: '/srv/p/dl', uploadDirectory: '/srv/p/upload' });
    expect(parseProjectConfig('<boinc><config><uldl_dir_fanout>0</uldl_dir_fanout></config></boinc>', '/srv/p').fanout).toBe(0);
  });

  it('refuses what is not a project configuration, naming the file', () => {
    expect(() => parseProjectConfig('<html>', '/p', '/p/config.xml')).toThrow(/\/p\/config.xml/);
    expect(() => parseProjectConfig('<boinc></boinc>', '/p')).toThrow(/no <boinc><config>/);
    expect(() => parseProjectConfig('<boinc><config><uldl_dir_fanout>ten</uldl_dir_fanout></config></boinc>', '/p')).toThrow(/not a whole number/);
  });
});
