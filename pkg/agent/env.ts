// A container's environment, as the kubelet builds it: envFrom sources first, in order (a later
// source overrides an earlier one, keys get the source's prefix), then env entries in order, each
// overriding what came before. A literal value has $(VAR) references expanded against what is
// defined so far; values from ConfigMaps, Secrets and the downward API are taken as they are.
// A missing object or key fails the container (the kubelet's CreateContainerConfigError) unless the
// reference is optional, in which case the variable is left out.

import type { ConfigMap, Container, Pod, Secret } from '../../gen/navarch/api/v1/core.js';
import { podFieldValue, resourceFieldValue, type DownwardContext } from './downward.js';
import { expandVars } from './expansion.js';

export interface EnvSources extends DownwardContext {
  /** The ConfigMap, or undefined when it does not exist. */
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  /** The Secret, or undefined when it does not exist. */
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
}

export interface EnvVarValue {
  name: string;
  value: string;
}

/** The container cannot be configured; `field` is the path to blame (spec.containers[0].env[2].valueFrom...). */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/** "spec.containers[1]" or "spec.initContainers[0]" for this container of the pod. */
export function containerFieldPath(pod: Pod, container: Container): string {
  for (const list of ['containers', 'initContainers'] as const) {
    const cs = pod.spec?.[list] ?? [];
    let i = cs.indexOf(container);
    if (i < 0) i = cs.findIndex((c) => c.name === container.name);
    if (i >= 0) return `spec.${list}[${i}]`;
  }
  throw new ContainerConfigError('spec.containers', `container ${JSON.stringify(container.name)} is not in the pod`);
}

// Environment variable names may hold any printable ASCII but '='; envFrom keys that do not fit are skipped, as the kubelet does.
const VALID_NAME = /^[\x21-\x3c\x3e-\x7e]+$/;

/** Resolves `container`'s env to the final list, in definition order of first appearance. */
export async function resolveEnv(pod: Pod, container: Container, sources: EnvSources): Promise<EnvVarValue[]> {
  const base = containerFieldPath(pod, container);
  const namespace = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();
  // Each object is read once per call, so every key comes from the same version of it.
  const configMaps = new Map<string, Promise<ConfigMap | undefined>>();
  const secrets = new Map<string, Promise<Secret | undefined>>();
  const configMap = (name: string) => memo(configMaps, name, () => sources.getConfigMap(namespace, name));
  const secret = (name: string) => memo(secrets, name, () => sources.getSecret(namespace, name));

  for (const [i, from] of (container.envFrom ?? []).entries()) {
    const field = `${base}.envFrom[${i}]`;
    const prefix = from.prefix ?? '';
    if (from.configMapRef && from.secretRef) throw new ContainerConfigError(field, 'may not have both configMapRef and secretRef');
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      const name = required(from.configMapRef.name, `${field}.configMapRef.name`);
      const cm = await configMap(name);
      if (!cm && !from.configMapRef.optional) throw new ContainerConfigError(`${field}.configMapRef`, `configmap ${JSON.stringify(name)} not found`);
      data = cm ? configMapData(cm) : undefined;
    } else if (from.secretRef) {
      const name = required(from.secretRef.name, `${field}.secretRef.name`);
      const s = await secret(name);
      if (!s && !from.secretRef.optional) throw new ContainerConfigError(`${field}.secretRef`, `secret ${JSON.stringify(name)} not found`);
      data = s ? secretData(s) : undefined;
    } else {
      throw new ContainerConfigError(field, 'must have configMapRef or secretRef');
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      const name = prefix + k;
      if (VALID_NAME.test(name)) env.set(name, v);
    }
  }

  for (const [i, e] of (container.env ?? []).entries()) {
    const field = `${base}.env[${i}]`;
    const name = required(e.name, `${field}.name`);
    const from = e.valueFrom;
    if (!from) {
      env.set(name, expandVars(e.value ?? '', (n) => env.get(n)));
      continue;
    }
    if (e.value) throw new ContainerConfigError(field, 'may not have both value and valueFrom');
    const value = await valueFrom(pod, container, from, `${field}.valueFrom`, sources, configMap, secret);
    if (value !== undefined) env.set(name, value);
  }
  return [...env].map(([name, value]) => ({ name, value }));
}

async function valueFrom(
  pod: Pod,
  container: Container,
  from: NonNullable<Container['env'][number]['valueFrom']>,
  field: string,
  ctx: DownwardContext,
  configMap: (name: string) => Promise<ConfigMap | undefined>,
  secret: (name: string) => Promise<Secret | undefined>,
): Promise<string | undefined> {
  const set = [from.fieldRef, from.resourceFieldRef, from.configMapKeyRef, from.secretKeyRef].filter((x) => x !== undefined).length;
  if (set !== 1) throw new ContainerConfigError(field, 'must have exactly one of fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef');
  if (from.fieldRef) {
    const path = required(from.fieldRef.fieldPath, `${field}.fieldRef.fieldPath`);
    try {
      return podFieldValue(pod, path, ctx, 'env');
    } catch (err) {
      throw new ContainerConfigError(`${field}.fieldRef.fieldPath`, (err as Error).message);
    }
  }
  if (from.resourceFieldRef) {
    const r = from.resourceFieldRef;
    try {
      return resourceFieldValue(pod, r.containerName || (container.name ?? ''), required(r.resource, `${field}.resourceFieldRef.resource`), r.divisor, ctx);
    } catch (err) {
      if (err instanceof ContainerConfigError) throw err;
      throw new ContainerConfigError(`${field}.resourceFieldRef`, (err as Error).message);
    }
  }
  const ref = (from.configMapKeyRef ?? from.secretKeyRef)!;
  const kind = from.configMapKeyRef ? 'configmap' : 'secret';
  const refField = `${field}.${from.configMapKeyRef ? 'configMapKeyRef' : 'secretKeyRef'}`;
  const name = required(ref.name, `${refField}.name`);
  const key = required(ref.key, `${refField}.key`);
  const data = from.configMapKeyRef ? mapOrUndefined(await configMap(name), configMapData) : mapOrUndefined(await secret(name), secretData);
  if (data === undefined) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(refField, `${kind} ${JSON.stringify(name)} not found`);
  }
  if (!Object.hasOwn(data, key)) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(refField, `key ${JSON.stringify(key)} not found in ${kind} ${JSON.stringify(name)}`);
  }
  return data[key];
}

function required(v: string | undefined, field: string): string {
  if (!v) throw new ContainerConfigError(field, 'Required value');
  return v;
}

function memo<T>(m: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = m.get(key);
  if (!p) m.set(key, (p = load()));
  return p;
}

function mapOrUndefined<T>(obj: T | undefined, f: (o: T) => Record<string, string>): Record<string, string> | undefined {
  return obj === undefined ? undefined : f(obj);
}

/** data and binaryData (as UTF-8 text) of a ConfigMap. */
export function configMapData(cm: ConfigMap): Record<string, string> {
  const out: Record<string, string> = { ...(cm.data ?? {}) };
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v).toString('utf8');
  return out;
}

/** A Secret's data decoded as UTF-8 text (stringData too, should a copy not have been defaulted). */
export function secretData(s: Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v).toString('utf8');
  for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = v;
  return out;
}
