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
      const info = await this.runtime.pullImage(image, await credentials());
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
