// Images for a container about to start, per imagePullPolicy, as the kubelet's image manager:
// Always pulls each time, IfNotPresent pulls when the image is missing, Never only looks. A failed
// pull gives ErrImagePull and starts a backoff (per pod and image); until it ends the container
// waits with ImagePullBackOff and nothing is pulled.

import type { Container, Pod } from '../../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../../raft/node/ports.js';
import { defaultImagePullPolicy } from '../../api/defaults/defaults.js';
import type { ContainerRuntime, ImageInfo, RegistryCredential } from '../runtime/runtime.js';
import { Backoff } from './backoff.js';

export type PullOutcome = { ok: true; image: ImageInfo } | { ok: false; reason: string; message: string; retryAtMs?: number };

export class ImagePuller {
  readonly backoff: Backoff;
  /** Bounded by the syncs running at once: each waits on at most one. */
  private readonly inflight = new Map<string, Promise<ImageInfo>>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly clock: Clock,
    backoff?: Backoff,
  ) {
    this.backoff = backoff ?? new Backoff();
  }

  async ensure(pod: Pod, container: Container, credentials: () => Promise<RegistryCredential[]>): Promise<PullOutcome> {
    const image = container.image ?? '';
    if (image.trim() === '') return { ok: false, reason: 'InvalidImageName', message: `container ${container.name}: image: Required value` };
    const policy = container.imagePullPolicy || defaultImagePullPolicy(image);
    if (policy !== 'Always') {
      const have = await this.runtime.imageStatus(image);
      if (have !== undefined) return { ok: true, image: have };
      if (policy === 'Never') return { ok: false, reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` };
    }
    const key = `${pod.metadata?.uid ?? ''}/${image}`;
    const now = this.clock.nowMs();
    const until = this.backoff.backoffSinceUpdateUntil(key, now);
    if (until !== undefined) return { ok: false, reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"`, retryAtMs: until };
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
  }
}
