declare const __TSMW_RUNTIME_VERSION__: string | undefined;

/** The version of `@tsmw/client-runtime`, set by the build (`source` when run from the sources). */
export const runtimeVersion: string = typeof __TSMW_RUNTIME_VERSION__ === 'string' ? __TSMW_RUNTIME_VERSION__ : 'source';
