// FoundationDB-style fault sites: each named site is switched on for the
// whole run with siteProbability the first time it is reached, and an
// enabled site then fires with fireProbability each time. All draws come
// from the injected Random, so a seed decides which sites misbehave.

import type { Random } from '../core/random.js';

export interface BuggifyOptions {
  /** @default true */
  enabled?: boolean;
  /** @default 0.25 */
  siteProbability?: number;
  /** @default 0.25 */
  fireProbability?: number;
}

export class Buggify {
  private readonly sites = new Map<string, boolean>();
  private readonly enabled: boolean;
  private readonly siteProbability: number;
  private readonly fireProbability: number;

  constructor(
    private readonly random: Random,
    options: BuggifyOptions = {},
  ) {
    this.enabled = options.enabled ?? true;
    this.siteProbability = checkProbability('siteProbability', options.siteProbability ?? 0.25);
    this.fireProbability = checkProbability('fireProbability', options.fireProbability ?? 0.25);
  }

  /** Whether the site misbehaves this time. */
  fires(site: string): boolean {
    if (!this.enabled) return false;
    let on = this.sites.get(site);
    if (on === undefined) {
      on = this.random.float() < this.siteProbability;
      this.sites.set(site, on);
    }
    return on && this.random.float() < this.fireProbability;
  }

  /** Sites reached so far and whether each is enabled, in the order first reached. */
  enabledSites(): string[] {
    return [...this.sites].filter(([, on]) => on).map(([s]) => s);
  }
}

function checkProbability(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`Invalid ${name} "${p}": expected a probability in [0, 1]`);
  return p;
}
