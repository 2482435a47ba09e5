// The two time formats the agent writes: RFC 3339 to the second (conditions, startTime), as
// metav1.Time, and with microseconds (Lease renewTime/acquireTime), as metav1.MicroTime.

/** "2026-01-02T03:04:05Z" */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** "2026-01-02T03:04:05.678000Z" */
export function microTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
