import { readFileSync } from 'node:fs';

export function readFixture(name: string): Buffer {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url));
}
