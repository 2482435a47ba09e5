// Kubernetes' DefaultNormalizeScore: scales raw scores so the highest becomes MAX_NODE_SCORE
// (integer division, as Go's int64), optionally reversed so that fewer is better.

import { MAX_NODE_SCORE } from "./interface.js";

export function defaultNormalizeScore(scores: Float64Array, reverse: boolean, maxPriority = MAX_NODE_SCORE): void {
  let max = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > max) max = scores[i];
  if (max === 0) {
    if (reverse) scores.fill(maxPriority);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((maxPriority * scores[i]) / max);
    scores[i] = reverse ? maxPriority - s : s;
  }
}
