// Choosing one manifest from a manifest list or image index for a platform, as containerd does:
// os and architecture must match; arm64 without a variant is v8, amd64 without one is v1; an arm
// machine also runs older arm variants (v7 runs v6 and v5) but prefers its own.

import type { Descriptor, Platform } from '../oci/mod.js';

const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', amd64: 'v1' };

function variantOf(architecture: string, variant: string | undefined): string {
  return variant || DEFAULT_VARIANT[architecture] || '';
}

/** Higher is better; -1 means the platform cannot run it. */
function score(want: Platform, have: Platform): number {
  if (have.os !== want.os || have.architecture !== want.architecture) return -1;
  const w = variantOf(want.architecture, want.variant);
  const h = variantOf(have.architecture, have.variant);
  if (w === h) return 100;
  if (want.architecture === 'arm' && /^v\d+$/.test(w) && /^v\d+$/.test(h)) {
    const diff = Number(w.slice(1)) - Number(h.slice(1));
    if (diff > 0) return 100 - diff;
  }
  if (want.architecture === 'amd64' && !want.variant) return 50; // any x86-64 level, when ours is unknown
  return -1;
}

/** The best descriptor for the platform (the first of equals), or undefined when none runs here. */
export function selectPlatform(manifests: readonly Descriptor[], want: Platform): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestScore = -1;
  for (const d of manifests) {
    if (!d.platform) continue;
    const s = score(want, d.platform);
    if (s > bestScore) {
      best = d;
      bestScore = s;
    }
  }
  return best;
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
