import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createBoincClientHarness, createBoincTestServer, findBoincClient } from '../src/index.js';
import type { BoincClientHarness, BoincTestServer } from '../src/index.js';

const boincPath = findBoincClient();
const inCi = process.env['CI'] === 'true';
/** TSMW_DEBUG_BOINC=1 prints the server's and the client's logs as they happen. */
const debug = process.env['TSMW_DEBUG_BOINC'] === '1' ? (line: string) => console.log(line) : undefined;
const skipReason = 'the BOINC client is not installed (apt-get install -y --no-install-recommends boinc-client)';
if (boincPath === null && !inCi) console.warn(`skipping the real-client e2e test: ${skipReason}`);

// A trivial app that does not use the BOINC API: resolve each logical name (a <soft_link> file
// or, with copy_file, the file itself), copy the input to the output, write boinc_finish_called.
const copyApp = `#!/bin/sh
resolve() {
  if grep -q '<soft_link>' "$1" 2>/dev/null; then
    sed -n 's:.*<soft_link>\\(.*\\)</soft_link>.*:\\1:p' "$1"
  else
    printf '%s\\n' "$1"
  fi
}
echo "copy app argv: $*" >&2
cp "$(resolve in)" "$(resolve out)" || exit 3
cp "$(resolve side)" "$(resolve side_out)" || exit 4
printf '0\\n' > boinc_finish_called
exit 0
`;

describe.skipIf(boincPath === null && !inCi)('a real BOINC client against the test server', () => {
  let server: BoincTestServer | undefined;
  let client: BoincClientHarness | undefined;

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('fetches a job, runs the app and uploads its outputs byte-exact', async () => {
    // Under CI a missing client is a failure, not a skip.
    expect(boincPath, skipReason).not.toBeNull();
    const startedAt = Date.now();
    server = createBoincTestServer({ appName: 'copyapp', versionNum: 100, nextRpcDelaySeconds: 3, ...(debug ? { log: debug } : {}) });
    await server.start();
    // 100 KB of random bytes: above 8192 bytes the client asks <get_file_size> first.
    const input = randomBytes(100_000);
    const side = Buffer.from('a small file copied into the slot\n');
    // Queue before the client attaches: a first reply without work backs the client off for minutes.
    const job = server.addJob({
      name: 'e2e_copy_1',
      commandLine: '--flag value',
      inputFiles: [
        { openName: 'in', data: input },
        { openName: 'side', data: side, copyFile: true },
      ],
      outputFiles: [
        { openName: 'out', maxBytes: 1_000_000 },
        { openName: 'side_out', maxBytes: 10_000, copyFile: true },
      ],
    });
    client = createBoincClientHarness({
      serverUrl: server.url,
      appName: 'copyapp',
      versionNum: 100,
      appFiles: [{ name: 'copy_app_1.sh', data: copyApp, mainProgram: true }],
      apiVersion: '7.20.0',
      ncpus: 1,
      ...(debug ? { onOutput: debug } : {}),
    });
    await client.start();

    const uploaded = await server.waitForUpload(job.name, { timeoutMs: 45_000 });
    const firstUploadMs = Date.now() - startedAt;
    const [result] = await server.waitForResults([job.name], { timeoutMs: 45_000 });
    const totalMs = Date.now() - startedAt;
    console.info(`real client: first upload after ${firstUploadMs} ms, result reported after ${totalMs} ms`);

    expect(uploaded.equals(input)).toBe(true);
    expect(server.readUpload(job.resultName, 'side_out')?.equals(side)).toBe(true);
    expect(result).toMatchObject({ name: job.resultName, exitStatus: 0, stateName: 'files-uploaded', outcome: 'success' });
    expect(result?.stderrText).toContain('copy app argv: --flag value');
    expect(server.refusedUploads.filter((refused) => refused.status === -1)).toEqual([]);
    const tasks = await client.getTasks();
    expect(tasks.find((task) => task.name === job.resultName)?.state ?? 'acknowledged and gone').not.toBe('compute error');
  }, 90_000);
});
