import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('master events', () => {
  it('a listener that throws is not hidden: its error surfaces as an uncaught exception (an expect in a listener can fail a test)', () => {
    const script = `
import { createMaster } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
const tasks = new URL('./test/fixtures/tasks.mjs', 'file://' + process.cwd() + '/');
const { echo } = await import(tasks.href);
const master = await createMaster({ transport: createInMemoryTransport(), tasks });
master.on('task-completed', () => { throw new Error('the listener is broken'); });
const handle = await master.submit(echo, 'value');
console.log('result:', await handle.result);
await master.close();
setTimeout(() => console.log('still running'), 1000);
`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('the listener is broken');
    expect(run.stdout).not.toContain('still running');
  });
});
