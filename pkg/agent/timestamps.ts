// The two time formats the agent writes: RFC 3339 to the second (conditions, startTime), as
// metav1.Time, and with microseconds (Lease renewTime/acquireTime), as metav1.MicroTime.

import { formatTime } from '../api/time.js';

/** "2026-01-02T03:04:05Z" */
export const rfc3339 = formatTime;

/** "2026-01-02T03:04:05.678000Z" */
export function microTime(ms: number): string {
  const whole = Math.floor(ms);
  const millis = ((whole % 1000) + 1000) % 1000;
  // The second's text is shared with formatTime (a hollow process renews hundreds of leases a second).
  return `${formatTime(whole).slice(0, -1)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}000Z`;
}
