import { readFileSync } from 'node:fs';

/** Reads a recorded exchange from test/fixtures. */
export function readFixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
}
