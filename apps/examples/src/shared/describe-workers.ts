/** "2 tsmw.local workers", or the transport alone where workers are not counted (BOINC). */
export function describeWorkers(report: { readonly transport: string; readonly workers: number | null }): string {
  return report.workers === null ? report.transport : `${report.workers} ${report.transport} workers`;
}
