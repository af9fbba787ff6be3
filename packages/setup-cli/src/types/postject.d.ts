// postject ships no type declarations; this is the one function tsmw-setup calls.
declare module 'postject' {
  interface InjectOptions {
    readonly machoSegmentName?: string;
    readonly overwrite?: boolean;
    readonly sentinelFuse?: string;
  }
  const postject: {
    inject(filename: string, resourceName: string, resourceData: Buffer, options?: InjectOptions): Promise<void>;
  };
  export default postject;
}
