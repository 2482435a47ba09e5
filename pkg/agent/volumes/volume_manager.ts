// A pod's volumes on this node, under <podsDir>/<uid>/volumes/<kind>/<name>:
//   emptyDir     a directory shared by the pod's containers (0777, as the kubelet makes it); medium
//                Memory is a tmpfs (size from sizeLimit) when this process may mount; on disk,
//                exceededSizeLimits() tells the pod worker which ones outgrew their sizeLimit
//   hostPath     the node's own path, after the type check
//   configMap, secret, downwardAPI
//                files written atomically (atomic_writer.ts), rewritten by refresh() when the objects
//                change; a secret volume is a tmpfs so its files never reach the disk, or, when this
//                process may not mount, files readable by their owner only. With the pod's
//                securityContext.fsGroup, files and directories belong to that group, as in Kubernetes
// A subPath mount is checked not to leave its volume and, when this process may mount, pinned by a
// bind mount under <podsDir>/<uid>/volume-subpaths/<volume>/<container>/<index>.
// Calls for one pod run one after another; tearDown unmounts what is mounted under the pod's
// directory (read from the mount table, so it works after an agent restart) before removing it.

import { chmod, chown, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Pod, Volume } from '../../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../../raft/node/ports.js';
import { Quantity } from '../../api/quantity.js';
import type { Mount } from '../runtime/runtime.js';
import { podFieldValue, resourceFieldValue, type DownwardContext } from '../downward.js';
import { ContainerConfigError, containerFieldPath, resolveEnv } from '../env.js';
import { envLookup, expandVars } from '../expansion.js';
import { getConfigMap, getSecret, type ObjectGetter } from '../object_getters.js';
import { invalidPayloadPath, writeAtomically, type Payload } from './atomic_writer.js';
import { diskUsageBytes } from './disk_usage.js';
import { checkHostPath } from './host_path.js';
import { bindMount, mountTmpfs, mountsUnder, unmount } from './mounts.js';
import { pinSubPath, resolveSubPath, SubPathError } from './subpath.js';

export interface VolumeManagerOptions {
  /** Root of the per-pod directories, e.g. /var/lib/navarch/pods. */
  podsDir: string;
  /** Reads ConfigMaps and Secrets (a NavarchClient). */
  client: ObjectGetter;
  clock: Clock;
  /** May this process mount tmpfs? @default true when running as root */
  canMount?: boolean;
  /** For downwardAPI limits of containers without a limit. */
  nodeAllocatable?: DownwardContext['nodeAllocatable'];
  /** Told when a volume is set up in a weaker form than asked (a Memory emptyDir on disk). */
  onWarning?: (podUid: string, message: string) => void;
}

/** A volume could not be set up; `volume` and `field` say which. */
export class VolumeError extends Error {
  override name = 'VolumeError';
  constructor(
    readonly volume: string,
    readonly field: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot set up volume ${JSON.stringify(volume)} (${field}): ${detail}`, options);
  }
}

const API_DATA_KINDS = ['configMap', 'secret', 'downwardAPI'] as const;
const DIR_NAMES = { emptyDir: 'empty-dir', configMap: 'configmap', secret: 'secret', downwardAPI: 'downward-api' } as const;
const DEFAULT_FILE_MODE = 0o644;
const SAFE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function podUidOf(pod: Pod): string {
  const uid = pod.metadata?.uid;
  if (!uid) throw new RangeError('Cannot handle the volumes of a pod without metadata.uid');
  if (uid.includes('/') || uid.startsWith('.')) throw new RangeError(`Cannot handle the volumes of pod uid ${JSON.stringify(uid)}: not a valid uid`);
  return uid;
}

function checkMode(mode: number | undefined, field: string): number | undefined {
  if (mode === undefined) return undefined;
  if (!(Number.isInteger(mode) && mode >= 0 && mode <= 0o777)) throw new Error(`${field}: must be a file mode between 0 and 0777 (511), got ${mode}`);
  return mode;
}

export class VolumeManager {
  private readonly canMount: boolean;
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly o: VolumeManagerOptions) {
    this.canMount = o.canMount ?? process.getuid?.() === 0;
  }

  /** The directory that holds everything of this pod. */
  podDir(podUid: string): string {
    return join(this.o.podsDir, podUid);
  }

  /** Sets up every volume of the pod (idempotent); returns volume name -> host path. */
  setUp(pod: Pod): Promise<Map<string, string>> {
    const uid = podUidOf(pod);
    return this.serial(uid, async () => {
      const paths = new Map<string, string>();
      for (const [i, v] of (pod.spec?.volumes ?? []).entries()) {
        const field = `spec.volumes[${i}]`;
        if (!v.name) throw new VolumeError('', `${field}.name`, 'Required value');
        // The name becomes a path component; the API allows only DNS labels, this keeps a bad copy from escaping.
        if (!SAFE_NAME.test(v.name)) throw new VolumeError(v.name, `${field}.name`, 'must be a DNS label (lower-case letters, digits and "-")');
        try {
          paths.set(v.name, await this.setUpVolume(pod, uid, v, field));
        } catch (err) {
          if (err instanceof VolumeError) throw err;
          throw new VolumeError(v.name, field, (err as Error).message, { cause: err });
        }
      }
      return paths;
    });
  }

  /** Rewrites the configMap, secret and downwardAPI volumes whose content changed; returns their names. */
  refresh(pod: Pod): Promise<string[]> {
    const uid = podUidOf(pod);
    return this.serial(uid, async () => {
      const changed: string[] = [];
      for (const [i, v] of (pod.spec?.volumes ?? []).entries()) {
        if (!v.name || !API_DATA_KINDS.some((k) => v[k])) continue;
        const field = `spec.volumes[${i}]`;
        try {
          if (await this.writeApiData(pod, uid, v, field)) changed.push(v.name);
        } catch (err) {
          if (err instanceof VolumeError) throw err;
          throw new VolumeError(v.name, field, (err as Error).message, { cause: err });
        }
      }
      return changed;
    });
  }

  /**
   * The runtime mounts for `container`'s volumeMounts, given setUp's paths. API data volumes are
   * always read-only, as in Kubernetes. `env` (the container's resolved env) expands subPathExpr;
   * without it the env is resolved here.
   */
  async mountsFor(pod: Pod, container: Container, paths: ReadonlyMap<string, string>, o: { env?: { name: string; value: string }[] } = {}): Promise<Mount[]> {
    const base = containerFieldPath(pod, container);
    const mounts: Mount[] = [];
    let env = o.env;
    for (const [i, vm] of (container.volumeMounts ?? []).entries()) {
      const field = `${base}.volumeMounts[${i}]`;
      if (!vm.name) throw new ContainerConfigError(`${field}.name`, 'Required value');
      const hostPath = paths.get(vm.name);
      const volume = pod.spec?.volumes?.find((v) => v.name === vm.name);
      if (!SAFE_NAME.test(vm.name) || !SAFE_NAME.test(container.name ?? '')) throw new ContainerConfigError(field, `volume and container names must be DNS labels, got ${JSON.stringify(vm.name)} in ${JSON.stringify(container.name)}`);
      if (hostPath === undefined || volume === undefined) throw new ContainerConfigError(`${field}.name`, `volume ${JSON.stringify(vm.name)} not found among the pod's volumes`);
      if (!vm.mountPath?.startsWith('/')) throw new ContainerConfigError(`${field}.mountPath`, `must be an absolute path, got ${JSON.stringify(vm.mountPath ?? '')}`);
      if (vm.subPath && vm.subPathExpr) throw new ContainerConfigError(field, 'may not have both subPath and subPathExpr');
      let subPath = vm.subPath ?? '';
      let subField = `${field}.subPath`;
      if (vm.subPathExpr) {
        env ??= await resolveEnv(pod, container, { getConfigMap: (ns, n) => getConfigMap(this.o.client, ns, n), getSecret: (ns, n) => getSecret(this.o.client, ns, n) });
        subPath = expandVars(vm.subPathExpr, envLookup(env));
        subField = `${field}.subPathExpr`;
      }
      let source = hostPath;
      if (subPath) {
        try {
          source = await resolveSubPath(hostPath, subPath);
          if (this.canMount) {
            // Pinned by a bind mount, so what the container gets is what was checked.
            const pinned = join(this.podDir(podUidOf(pod)), 'volume-subpaths', vm.name, container.name ?? '', String(i));
            await pinSubPath(hostPath, source, pinned, bindMount);
            source = pinned;
          }
        } catch (err) {
          if (err instanceof SubPathError) throw new ContainerConfigError(subField, err.message);
          throw err;
        }
      }
      const apiData = API_DATA_KINDS.some((k) => volume[k]);
      mounts.push({ hostPath: source, containerPath: vm.mountPath, readOnly: Boolean(vm.readOnly) || apiData });
    }
    return mounts;
  }

  /**
   * Disk-backed emptyDirs that use more than their sizeLimit (the kubelet evicts such a pod). A
   * Memory emptyDir is not listed: its tmpfs refuses writes past the limit by itself.
   */
  async exceededSizeLimits(pod: Pod): Promise<Array<{ volume: string; usedBytes: number; limitBytes: number }>> {
    const uid = podUidOf(pod);
    const out: Array<{ volume: string; usedBytes: number; limitBytes: number }> = [];
    for (const v of pod.spec?.volumes ?? []) {
      const limit = v.emptyDir?.sizeLimit === undefined ? undefined : Quantity.tryParse(v.emptyDir.sizeLimit)?.value();
      if (!v.name || limit === undefined || limit <= 0 || (v.emptyDir?.medium === 'Memory' && this.canMount)) continue;
      const usedBytes = await diskUsageBytes(this.volumeDir(uid, 'emptyDir', v.name), limit);
      if (usedBytes > limit) out.push({ volume: v.name, usedBytes, limitBytes: limit });
    }
    return out;
  }

  /** Unmounts and removes everything of the pod; refuses to remove a directory something is still mounted under. */
  tearDown(podUid: string): Promise<void> {
    return this.serial(podUid, async () => {
      const dir = this.podDir(podUid);
      try {
        await stat(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const m of await mountsUnder(dir)) await unmount(m);
      const left = await mountsUnder(dir);
      if (left.length > 0) throw new Error(`Cannot remove the volumes of pod ${podUid}: still mounted: ${left.join(', ')}`);
      await rm(dir, { recursive: true, force: true });
    });
  }

  private volumeDir(uid: string, kind: keyof typeof DIR_NAMES, name: string): string {
    return join(this.podDir(uid), 'volumes', DIR_NAMES[kind], name);
  }

  private async setUpVolume(pod: Pod, uid: string, v: Volume, field: string): Promise<string> {
    const kinds = (['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'persistentVolumeClaim', 'nfs'] as const).filter((k) => v[k] !== undefined);
    if (kinds.length !== 1) throw new VolumeError(v.name!, field, kinds.length === 0 ? 'must have one volume source (emptyDir, hostPath, configMap, secret or downwardAPI)' : `may not have more than one volume source, has ${kinds.join(', ')}`);
    const kind = kinds[0];
    switch (kind) {
      case 'emptyDir':
        return this.setUpEmptyDir(pod, uid, v, field);
      case 'hostPath': {
        const path = v.hostPath?.path ?? '';
        await checkHostPath(path, v.hostPath?.type ?? '');
        return path;
      }
      case 'configMap':
      case 'secret':
      case 'downwardAPI':
        await this.writeApiData(pod, uid, v, field);
        return this.volumeDir(uid, kind, v.name!);
      default:
        throw new VolumeError(v.name!, `${field}.${kind}`, `${kind} volumes are not supported by this agent`);
    }
  }

  private async setUpEmptyDir(pod: Pod, uid: string, v: Volume, field: string): Promise<string> {
    const dir = this.volumeDir(uid, 'emptyDir', v.name!);
    const medium = v.emptyDir?.medium ?? '';
    if (medium !== '' && medium !== 'Memory') throw new VolumeError(v.name!, `${field}.emptyDir.medium`, `medium ${JSON.stringify(medium)} is not supported (use "" or "Memory")`);
    let sizeBytes: number | undefined;
    if (v.emptyDir?.sizeLimit) {
      const q = Quantity.tryParse(v.emptyDir.sizeLimit);
      if (q === undefined || q.sign() < 0) throw new VolumeError(v.name!, `${field}.emptyDir.sizeLimit`, `not a size: ${JSON.stringify(v.emptyDir.sizeLimit)}`);
      sizeBytes = q.value() > 0 ? q.value() : undefined;
    }
    await mkdir(dir, { recursive: true });
    if (medium === 'Memory') {
      if (this.canMount) await mountTmpfs(dir, { mode: 0o777, sizeBytes });
      else this.o.onWarning?.(uid, `emptyDir ${JSON.stringify(v.name)} with medium Memory is on disk: this agent may not mount a tmpfs`);
    }
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    if (fsGroup !== undefined) await chown(dir, -1, fsGroup);
    // setgid with an fsGroup: files made in it belong to the pod's group.
    await chmod(dir, fsGroup !== undefined ? 0o2777 : 0o777);
    return dir;
  }

  /** Writes a configMap, secret or downwardAPI volume; true when its content changed. */
  private async writeApiData(pod: Pod, uid: string, v: Volume, field: string): Promise<boolean> {
    const name = v.name!;
    let payload: Payload;
    let kind: 'configMap' | 'secret' | 'downwardAPI';
    let privateFiles = false;
    if (v.configMap) {
      kind = 'configMap';
      payload = await this.configMapPayload(pod, v, field);
    } else if (v.secret) {
      kind = 'secret';
      payload = await this.secretPayload(pod, v, field);
    } else {
      kind = 'downwardAPI';
      payload = this.downwardPayload(pod, v, field);
    }
    const dir = this.volumeDir(uid, kind, name);
    if (kind === 'secret') {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      if (this.canMount) await mountTmpfs(dir, { mode: 0o755 });
      else privateFiles = true;
    }
    if (privateFiles) for (const f of payload.values()) f.mode &= 0o700;
    return writeAtomically(dir, payload, this.o.clock.nowMs(), { fsGroup: pod.spec?.securityContext?.fsGroup });
  }

  private async configMapPayload(pod: Pod, v: Volume, field: string): Promise<Payload> {
    const src = v.configMap!;
    const objName = src.name;
    if (!objName) throw new VolumeError(v.name!, `${field}.configMap.name`, 'Required value');
    const cm = await getConfigMap(this.o.client, pod.metadata?.namespace ?? 'default', objName);
    if (!cm && !src.optional) throw new VolumeError(v.name!, `${field}.configMap`, `configmap ${JSON.stringify(objName)} not found in namespace ${JSON.stringify(pod.metadata?.namespace ?? 'default')}`);
    const data = new Map<string, Buffer>();
    for (const [k, s] of Object.entries(cm?.data ?? {})) data.set(k, Buffer.from(s, 'utf8'));
    for (const [k, b] of Object.entries(cm?.binaryData ?? {})) data.set(k, Buffer.from(b));
    return this.keyPayload(v.name!, `${field}.configMap`, 'configmap', objName, data, src.items ?? [], src.defaultMode, Boolean(src.optional));
  }

  private async secretPayload(pod: Pod, v: Volume, field: string): Promise<Payload> {
    const src = v.secret!;
    const objName = src.secretName;
    if (!objName) throw new VolumeError(v.name!, `${field}.secret.secretName`, 'Required value');
    const s = await getSecret(this.o.client, pod.metadata?.namespace ?? 'default', objName);
    if (!s && !src.optional) throw new VolumeError(v.name!, `${field}.secret`, `secret ${JSON.stringify(objName)} not found in namespace ${JSON.stringify(pod.metadata?.namespace ?? 'default')}`);
    const data = new Map<string, Buffer>();
    for (const [k, b] of Object.entries(s?.data ?? {})) data.set(k, Buffer.from(b));
    for (const [k, str] of Object.entries(s?.stringData ?? {})) data.set(k, Buffer.from(str, 'utf8'));
    return this.keyPayload(v.name!, `${field}.secret`, 'secret', objName, data, src.items ?? [], src.defaultMode, Boolean(src.optional));
  }

  /** Files from an object's keys: every key, or only the listed items at their paths and modes. */
  private keyPayload(volume: string, field: string, kind: string, objName: string, data: Map<string, Buffer>, items: { key?: string; path?: string; mode?: number }[], defaultModeIn: number | undefined, optional: boolean): Payload {
    const payload: Payload = new Map();
    let defaultMode: number;
    try {
      defaultMode = checkMode(defaultModeIn, `${field}.defaultMode`) ?? DEFAULT_FILE_MODE;
    } catch (err) {
      throw new VolumeError(volume, `${field}.defaultMode`, (err as Error).message.replace(/^[^:]*: /, ''));
    }
    if (items.length === 0) {
      for (const [k, b] of data) payload.set(k, { data: b, mode: defaultMode });
      return payload;
    }
    for (const [i, item] of items.entries()) {
      const itemField = `${field}.items[${i}]`;
      if (!item.key) throw new VolumeError(volume, `${itemField}.key`, 'Required value');
      const badPath = invalidPayloadPath(item.path ?? '');
      if (badPath) throw new VolumeError(volume, `${itemField}.path`, `${JSON.stringify(item.path ?? '')} ${badPath}`);
      const b = data.get(item.key);
      if (b === undefined) {
        if (optional) continue;
        throw new VolumeError(volume, `${itemField}.key`, `key ${JSON.stringify(item.key)} not found in ${kind} ${JSON.stringify(objName)}`);
      }
      let mode: number;
      try {
        mode = checkMode(item.mode, `${itemField}.mode`) ?? defaultMode;
      } catch (err) {
        throw new VolumeError(volume, `${itemField}.mode`, (err as Error).message.replace(/^[^:]*: /, ''));
      }
      payload.set(item.path!, { data: b, mode });
    }
    return payload;
  }

  private downwardPayload(pod: Pod, v: Volume, field: string): Payload {
    const src = v.downwardAPI!;
    const payload: Payload = new Map();
    const defaultMode = checkMode(src.defaultMode, `${field}.downwardAPI.defaultMode`) ?? DEFAULT_FILE_MODE;
    for (const [i, item] of (src.items ?? []).entries()) {
      const itemField = `${field}.downwardAPI.items[${i}]`;
      const badPath = invalidPayloadPath(item.path ?? '');
      if (badPath || !item.path) throw new VolumeError(v.name!, `${itemField}.path`, `${JSON.stringify(item.path ?? '')} ${badPath}`);
      let value: string;
      try {
        if (item.fieldRef) value = podFieldValue(pod, item.fieldRef.fieldPath ?? '', {}, 'volume');
        else if (item.resourceFieldRef) {
          const r = item.resourceFieldRef;
          if (!r.containerName) throw new Error('containerName: Required value');
          value = resourceFieldValue(pod, r.containerName, r.resource ?? '', r.divisor, { nodeAllocatable: this.o.nodeAllocatable });
        } else throw new Error('must have fieldRef or resourceFieldRef');
      } catch (err) {
        throw new VolumeError(v.name!, itemField, (err as Error).message, { cause: err });
      }
      payload.set(item.path, { data: Buffer.from(value, 'utf8'), mode: checkMode(item.mode, `${itemField}.mode`) ?? defaultMode });
    }
    return payload;
  }

  /** Runs `fn` after every earlier call for the same pod has finished. */
  private serial<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(uid, tail);
    void tail.then(() => {
      if (this.chains.get(uid) === tail) this.chains.delete(uid);
    });
    return next;
  }
}
