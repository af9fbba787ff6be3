import { readFileSync } from 'node:fs';

/** Reads a recorded exchange (or a reply constructed in BOINC's format) from test/fixtures, as bytes. */
export function readFixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`fixtures/${name}`, import.meta.url)));
}

/** Reads a fixture as text. */
export function readFixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
}
