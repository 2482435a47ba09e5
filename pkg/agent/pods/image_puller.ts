// Images for a container about to start, per imagePullPolicy, as the kubelet's image manager:
// Always pulls each time, IfNotPresent pulls when the image is missing, Never only looks. Pulls run
// in the background (the container waits in ContainerCreating). A failed pull gives ErrImagePull
// and starts a backoff (per pod and image); until it ends the container waits with
// ImagePullBackOff and nothing is pulled.

import type { Container, Pod } from '../../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../../raft/node/ports.js';
import { defaultImagePullPolicy } from '../../api/defaults/defaults.js';
import type { ContainerRuntime, ImageInfo, RegistryCredential } from '../runtime/runtime.js';
import { Backoff } from './backoff.js';

export type PullOutcome = { ok: true; image: ImageInfo } | { ok: false; reason: string; message: string; retryAtMs?: number; pending?: boolean };

export class ImagePuller {
  readonly backoff: Backoff;
  /** Runtime pulls in flight, shared by the pods that wait on them (at most one per pod and image). */
  private readonly inflight = new Map<string, Promise<ImageInfo>>();
  /** Per pod and image: a pull started in the background, and its outcome once it ended (taken once). */
  private readonly pulls = new Map<string, { outcome?: PullOutcome }>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly clock: Clock,
    backoff?: Backoff,
  ) {
    this.backoff = backoff ?? new Backoff();
  }

  /** Pulls started and not ended yet. */
  get pendingCount(): number {
    let n = 0;
    for (const p of this.pulls.values()) if (p.outcome === undefined) n++;
    return n;
  }

  /**
   * The image, or why the container waits. A pull runs in the background: ensure() says
   * `pending` (ContainerCreating) and calls `onSettled` when it ends; the next ensure() for the
   * same pod and image takes its outcome. So a slow or unreachable registry holds up no sync.
   */
  async ensure(pod: Pod, container: Container, credentials: () => Promise<RegistryCredential[]>, onSettled: () => void): Promise<PullOutcome> {
    const image = container.image ?? '';
    if (image.trim() === '') return { ok: false, reason: 'InvalidImageName', message: `container ${container.name}: image: Required value` };
    const policy = container.imagePullPolicy || defaultImagePullPolicy(image);
    const key = `${pod.metadata?.uid ?? ''}/${image}`;
    const pull = this.pulls.get(key);
    if (pull !== undefined) {
      if (pull.outcome === undefined) return PENDING;
      this.pulls.delete(key);
      return pull.outcome;
    }
    if (policy !== 'Always') {
      const have = await this.runtime.imageStatus(image);
      if (have !== undefined) return { ok: true, image: have };
      if (policy === 'Never') return { ok: false, reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` };
    }
    const until = this.backoff.backoffSinceUpdateUntil(key, this.clock.nowMs());
    if (until !== undefined) return { ok: false, reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"`, retryAtMs: until };
    const entry: { outcome?: PullOutcome } = {};
    this.pulls.set(key, entry);
    void this.pullOnce(image, key, credentials).then((outcome) => {
      if (this.pulls.get(key) === entry) entry.outcome = outcome;
      onSettled();
    });
    return PENDING;
  }

  private async pullOnce(image: string, key: string, credentials: () => Promise<RegistryCredential[]>): Promise<PullOutcome> {
    try {
      const creds = await credentials();
      // Pods asking for the same image with the same credentials share one pull.
      const flightKey = `${image}\n${JSON.stringify(creds)}`;
      let flight = this.inflight.get(flightKey);
      if (flight === undefined) {
        flight = this.runtime.pullImage(image, creds).finally(() => this.inflight.delete(flightKey));
        this.inflight.set(flightKey, flight);
      }
      const info = await flight;
      this.backoff.reset(key);
      return { ok: true, image: info };
    } catch (err) {
      const at = this.clock.nowMs();
      this.backoff.next(key, at, at);
      return { ok: false, reason: 'ErrImagePull', message: `Failed to pull image "${image}": ${(err as Error).message}`, retryAtMs: at + this.backoff.get(key) };
    }
  }

  forgetPod(podUid: string): void {
    this.backoff.forgetPrefix(`${podUid}/`);
    for (const k of [...this.pulls.keys()]) if (k.startsWith(`${podUid}/`)) this.pulls.delete(k);
  }
}

const PENDING: PullOutcome = { ok: false, pending: true, reason: 'ContainerCreating', message: '' };
