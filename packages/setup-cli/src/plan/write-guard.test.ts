import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathEscapeError } from '../errors/path-escape-error.js';
import { createWriteGuard } from './write-guard.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-guard-'));
  await mkdir(join(directory, 'project', 'apps'), { recursive: true });
  await mkdir(join(directory, 'outside'));
  await symlink(join(directory, 'outside'), join(directory, 'project', 'leads-out'));
  await writeFile(join(directory, 'outside', 'file'), 'x');
  await symlink(join(directory, 'outside', 'file'), join(directory, 'project', 'apps', 'linked-file'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('the write guard', () => {
  it('lets paths inside the project (and inside a root that does not exist yet) through', async () => {
    const guard = await createWriteGuard([join(directory, 'project'), join(directory, 'cache-not-yet')]);
    expect(await guard.check(join(directory, 'project', 'apps', 'pi', '1.00', 'x', 'version.xml'))).toBe(join(directory, 'project', 'apps', 'pi', '1.00', 'x', 'version.xml'));
    expect(await guard.check(join(directory, 'project'))).toBe(join(directory, 'project'));
    expect(await guard.check(join(directory, 'cache-not-yet', 'node', 'a'))).toBe(join(directory, 'cache-not-yet', 'node', 'a'));
  });

  it('refuses .., a directory link that leads out, and a file that is a link', async () => {
    const guard = await createWriteGuard([join(directory, 'project')]);
    const refused = async (path: string): Promise<string> => {
      const error = await guard.check(path).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(PathEscapeError.isInstance(error)).toBe(true);
      return (error as Error).message;
    };
    expect(await refused(join(directory, 'project', '..', 'outside', 'x'))).toMatch(/is outside the project and the cache/);
    expect(await refused(join(directory, 'project', 'leads-out', 'new', 'file'))).toMatch(/leads to .*\/outside\/new\/file, outside .*\/project;/);
    expect(await refused(join(directory, 'project', 'apps', 'linked-file'))).toMatch(/is a symbolic link/);
  });
});
