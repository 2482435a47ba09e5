// The checks Kubernetes makes on PodLogOptions, shared by the agent and the API server proxy so a
// bad request gets the same answer whichever of them sees it first.

import { ApiError } from '../../apiserver/api_error.js';

export interface LogLimits {
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
}

/** Throws Invalid naming each bad field. */
export function checkLogLimits(o: LogLimits, podName: string): void {
  const bad: string[] = [];
  if (o.tailLines !== undefined && !(Number.isInteger(o.tailLines) && o.tailLines >= 0)) bad.push(`tailLines: Invalid value: ${o.tailLines}: must be greater than or equal to 0`);
  if (o.sinceSeconds !== undefined && !(Number.isInteger(o.sinceSeconds) && o.sinceSeconds >= 1)) bad.push(`sinceSeconds: Invalid value: ${o.sinceSeconds}: must be greater than 0`);
  if (o.limitBytes !== undefined && !(Number.isInteger(o.limitBytes) && o.limitBytes >= 1)) bad.push(`limitBytes: Invalid value: ${o.limitBytes}: must be greater than 0`);
  if (bad.length) throw new ApiError('Invalid', `PodLogOptions "${podName}" is invalid: ${bad.join(', ')}`, { kind: 'PodLogOptions', name: podName });
}
