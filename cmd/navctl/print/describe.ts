// `navctl describe` text: metadata, a per-kind summary of spec and status, conditions and the
// object's events, laid out as kubectl lays them out ("Key:   value", nested by two spaces).

import { encodeObject } from '../../../pkg/api/convert/object.js';
import type { Deployment, Event, KubeObject, Node, Pod, PodDisruptionBudget, ReplicaSet, Service, ConfigMap, Secret, Namespace } from '../../../pkg/api/registry.js';
import { equalIgnoreHash } from '../../../pkg/controllers/deployment/hash.js';
import type { Container, ContainerState, PodTemplateSpec } from '../../../gen/navarch/api/v1/core.js';
import type { LabelSelector } from '../../../gen/navarch/api/v1/meta.js';
import { LAST_APPLIED_ANNOTATION } from '../apply_patch.js';
import { age } from './age.js';
import { formatLabelSelector, intOrString, nodeRoles, podStatus } from './columns.js';
import { Table } from './table.js';

const NONE = '<none>';

/** Lines of "key: value" at an indent level; values of neighbouring keys at one level line up. */
class Describer {
  private readonly lines: Array<{ level: number; key?: string; value: string }> = [];

  kv(level: number, key: string, value: string | number | undefined): this {
    this.lines.push({ level, key, value: value === undefined || value === '' ? NONE : String(value) });
    return this;
  }

  /** A key with nothing after it: a section heading. */
  section(level: number, key: string): this {
    this.lines.push({ level, key, value: '' });
    return this;
  }

  text(level: number, value: string): this {
    this.lines.push({ level, value });
    return this;
  }

  /** "key=value" entries, the first on the key's line and the rest aligned below it. */
  map(level: number, key: string, m: Record<string, string> | undefined, sep = '='): this {
    const entries = Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return this.kv(level, key, NONE);
    entries.forEach(([k, v], i) => this.lines.push({ level, key: i === 0 ? key : '', value: `${k}${sep}${v}` }));
    return this;
  }

  render(): string {
    const out: string[] = [];
    const n = this.lines.length;
    let i = 0;
    while (i < n) {
      const first = this.lines[i];
      if (first.key === undefined) {
        out.push(`${'  '.repeat(first.level)}${first.value}`);
        i++;
        continue;
      }
      // A run of keyed lines at one level shares a value column.
      let j = i;
      let width = 0;
      while (j < n && this.lines[j].key !== undefined && this.lines[j].level === first.level) {
        if (this.lines[j].value !== '') width = Math.max(width, this.lines[j].key!.length + 1);
        j++;
      }
      for (const l of this.lines.slice(i, j)) {
        const key = l.key ? `${l.key}:` : '';
        out.push(l.value === '' ? `${'  '.repeat(l.level)}${key}` : `${'  '.repeat(l.level)}${key.padEnd(width)}  ${l.value}`);
      }
      i = j;
    }
    return out.map((l) => l.trimEnd()).join('\n') + '\n';
  }
}

/** kubectl's describe timestamps: "Sun, 22 Nov 2026 09:00:00 +0000". */
export function describeTime(ts: string | undefined): string {
  if (!ts) return NONE;
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toUTCString().replace('GMT', '+0000');
}

function metadata(d: Describer, o: KubeObject, namespaced: boolean): void {
  const m = o.metadata;
  d.kv(0, 'Name', m?.name);
  if (namespaced) d.kv(0, 'Namespace', m?.namespace);
  d.map(0, 'Labels', m?.labels);
  const annotations = { ...(m?.annotations ?? {}) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  d.map(0, 'Annotations', annotations, ': ');
  d.kv(0, 'CreationTimestamp', describeTime(m?.creationTimestamp));
  if (m?.deletionTimestamp) d.kv(0, 'Terminating since', describeTime(m.deletionTimestamp));
  const owner = m?.ownerReferences?.find((r) => r.controller);
  if (owner) d.kv(0, 'Controlled By', `${owner.kind}/${owner.name}`);
  if (m?.finalizers?.length) d.kv(0, 'Finalizers', `[${m.finalizers.join(' ')}]`);
}

function stateLines(d: Describer, level: number, key: string, s: ContainerState | undefined): void {
  if (s?.running) {
    d.kv(level, key, 'Running');
    d.kv(level + 1, 'Started', describeTime(s.running.startedAt));
  } else if (s?.terminated) {
    d.kv(level, key, 'Terminated');
    d.kv(level + 1, 'Reason', s.terminated.reason);
    d.kv(level + 1, 'Exit Code', s.terminated.exitCode ?? 0);
    d.kv(level + 1, 'Started', describeTime(s.terminated.startedAt));
    d.kv(level + 1, 'Finished', describeTime(s.terminated.finishedAt));
  } else if (s?.waiting) {
    d.kv(level, key, 'Waiting');
    d.kv(level + 1, 'Reason', s.waiting.reason);
  } else d.kv(level, key, 'Waiting');
}

function containers(d: Describer, level: number, title: string, list: readonly Container[], pod?: Pod): void {
  if (list.length === 0) return;
  d.section(level, title);
  for (const c of list) {
    const status = pod?.status?.containerStatuses?.find((s) => s.name === c.name) ?? pod?.status?.initContainerStatuses?.find((s) => s.name === c.name);
    d.section(level + 1, c.name ?? '');
    if (status?.containerID) d.kv(level + 2, 'Container ID', status.containerID);
    d.kv(level + 2, 'Image', c.image);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol || 'TCP'}`).join(', ');
    d.kv(level + 2, 'Port', ports || NONE);
    if (c.command?.length) d.kv(level + 2, 'Command', c.command.join(' '));
    if (c.args?.length) d.kv(level + 2, 'Args', c.args.join(' '));
    if (pod) {
      stateLines(d, level + 2, 'State', status?.state);
      if (status?.lastState?.terminated) stateLines(d, level + 2, 'Last State', status.lastState);
      d.kv(level + 2, 'Ready', status?.ready ? 'True' : 'False');
      d.kv(level + 2, 'Restart Count', status?.restartCount ?? 0);
    }
    if (Object.keys(c.resources?.limits ?? {}).length) d.map(level + 2, 'Limits', c.resources?.limits, ': ');
    if (Object.keys(c.resources?.requests ?? {}).length) d.map(level + 2, 'Requests', c.resources?.requests, ': ');
    const env = (c.env ?? []).map((e) => {
      const from = e.valueFrom;
      const v = from?.configMapKeyRef
        ? `<set to the key '${from.configMapKeyRef.key}' of config map '${from.configMapKeyRef.name}'>`
        : from?.secretKeyRef
          ? `<set to the key '${from.secretKeyRef.key}' in secret '${from.secretKeyRef.name}'>`
          : from?.fieldRef
            ? `(${from.fieldRef.apiVersion || 'v1'}:${from.fieldRef.fieldPath})`
            : (e.value ?? '');
      return [e.name ?? '', v] as const;
    });
    if (env.length === 0) d.kv(level + 2, 'Environment', NONE);
    else {
      d.section(level + 2, 'Environment');
      for (const [k, v] of env) d.kv(level + 3, k, v);
    }
    const mounts = (c.volumeMounts ?? []).map((m) => `${m.mountPath} from ${m.name} (${m.readOnly ? 'ro' : 'rw'})`);
    if (mounts.length === 0) d.kv(level + 2, 'Mounts', NONE);
    else mounts.forEach((m, i) => d.kv(level + 2, i === 0 ? 'Mounts' : '', m));
  }
}

function conditions(d: Describer, list: ReadonlyArray<{ type?: string; status?: string; reason?: string }> | undefined): void {
  if (!list?.length) return;
  d.section(0, 'Conditions');
  const t = new Table(['Type', 'Status', 'Reason']);
  const rows = list.map((c) => [c.type ?? '', c.status ?? '', c.reason ?? '']);
  t.fit(rows).fit([['----', '------', '------']]);
  for (const line of [t.header(), t.line(['----', '------', '------']), ...rows.map((r) => t.line(r))]) d.text(1, line.trimEnd());
}

/** The "Pod Template:" block: labels, the annotations when asked, containers. */
function podTemplate(d: Describer, tpl: PodTemplateSpec | undefined, withAnnotations = false): void {
  d.section(0, 'Pod Template');
  d.map(1, 'Labels', tpl?.metadata?.labels);
  if (withAnnotations && Object.keys(tpl?.metadata?.annotations ?? {}).length) d.map(1, 'Annotations', tpl?.metadata?.annotations);
  containers(d, 1, 'Containers', tpl?.spec?.containers ?? []);
}

function template(d: Describer, selector: LabelSelector | undefined, tpl: PodTemplateSpec | undefined): void {
  d.kv(0, 'Selector', formatLabelSelector(selector));
  podTemplate(d, tpl);
}

/** `rollout history --revision`'s "Pod Template:" block, annotations included. */
export function describePodTemplate(tpl: PodTemplateSpec | undefined): string {
  const d = new Describer();
  podTemplate(d, tpl, true);
  return d.render();
}

function describePod(d: Describer, p: Pod): void {
  d.kv(0, 'Priority', p.spec?.priority ?? 0);
  if (p.spec?.priorityClassName) d.kv(0, 'Priority Class Name', p.spec.priorityClassName);
  d.kv(0, 'Node', p.spec?.nodeName ? `${p.spec.nodeName}${p.status?.hostIP ? `/${p.status.hostIP}` : ''}` : NONE);
  d.kv(0, 'Start Time', describeTime(p.status?.startTime));
  d.kv(0, 'Status', podStatus(p));
  d.kv(0, 'IP', p.status?.podIP);
  containers(d, 0, 'Init Containers', p.spec?.initContainers ?? [], p);
  containers(d, 0, 'Containers', p.spec?.containers ?? [], p);
  conditions(d, p.status?.conditions);
  const vols = p.spec?.volumes ?? [];
  if (vols.length === 0) d.kv(0, 'Volumes', NONE);
  else {
    d.section(0, 'Volumes');
    for (const v of vols) {
      d.section(1, v.name ?? '');
      const { name: _n, ...source } = v as unknown as Record<string, unknown>;
      const [type, spec] = Object.entries(source).find(([, x]) => x !== undefined) ?? ['', undefined];
      d.kv(2, 'Type', type);
      if (spec && typeof spec === 'object') for (const [k, x] of Object.entries(spec)) if (x !== undefined && typeof x !== 'object') d.kv(2, k, String(x));
    }
  }
  d.kv(0, 'QoS Class', p.status?.qosClass);
  d.map(0, 'Node-Selectors', p.spec?.nodeSelector);
  const tol = (p.spec?.tolerations ?? []).map((t) => `${t.key ?? ''}${t.operator === 'Exists' ? '' : `=${t.value ?? ''}`}${t.effect ? `:${t.effect}` : ''}`);
  if (tol.length === 0) d.kv(0, 'Tolerations', NONE);
  else tol.forEach((t, i) => d.kv(0, i === 0 ? 'Tolerations' : '', t));
}

/** kubectl's "name (current/desired replicas created)" list of ReplicaSets, or <none>. */
function replicaSetsLine(list: readonly ReplicaSet[]): string {
  return list.map((rs) => `${rs.metadata?.name} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`).join(', ') || NONE;
}

function describeDeployment(d: Describer, x: Deployment, replicaSets: readonly ReplicaSet[] | undefined): void {
  const s = x.status;
  d.kv(0, 'Selector', formatLabelSelector(x.spec?.selector));
  d.kv(0, 'Replicas', `${x.spec?.replicas ?? 0} desired | ${s?.updatedReplicas ?? 0} updated | ${s?.replicas ?? 0} total | ${s?.availableReplicas ?? 0} available | ${s?.unavailableReplicas ?? 0} unavailable`);
  d.kv(0, 'StrategyType', x.spec?.strategy?.type);
  d.kv(0, 'MinReadySeconds', x.spec?.minReadySeconds ?? 0);
  const ru = x.spec?.strategy?.rollingUpdate;
  if (ru) {
    const ios = (v: { intVal?: number; strVal?: string } | undefined) => (v?.strVal ?? String(v?.intVal ?? ''));
    d.kv(0, 'RollingUpdateStrategy', `${ios(ru.maxUnavailable)} max unavailable, ${ios(ru.maxSurge)} max surge`);
  }
  podTemplate(d, x.spec?.template);
  conditions(d, s?.conditions);
  if (replicaSets === undefined) return;
  // As kubectl: the new ReplicaSet runs the Deployment's template (the oldest such, if several);
  // the old ones listed are those that still want pods.
  const newRS = [...replicaSets].sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '')).find((rs) => equalIgnoreHash(rs.spec?.template, x.spec?.template));
  const old = replicaSets.filter((rs) => rs !== newRS && (rs.spec?.replicas ?? 0) > 0);
  d.kv(0, 'OldReplicaSets', replicaSetsLine(old));
  d.kv(0, 'NewReplicaSet', replicaSetsLine(newRS ? [newRS] : []));
}

function describeService(d: Describer, s: Service): void {
  d.map(0, 'Selector', s.spec?.selector);
  d.kv(0, 'Type', s.spec?.type || 'ClusterIP');
  d.kv(0, 'IP', s.spec?.clusterIP);
  for (const p of s.spec?.ports ?? []) {
    const target = p.targetPort?.strVal ?? p.targetPort?.intVal ?? p.port;
    d.kv(0, 'Port', `${p.name || '<unset>'}  ${p.port}/${p.protocol || 'TCP'}`);
    d.kv(0, 'TargetPort', `${target}/${p.protocol || 'TCP'}`);
    if (p.nodePort) d.kv(0, 'NodePort', `${p.name || '<unset>'}  ${p.nodePort}/${p.protocol || 'TCP'}`);
  }
  d.kv(0, 'Session Affinity', s.spec?.sessionAffinity || 'None');
}

function describeNode(d: Describer, n: Node): void {
  d.kv(0, 'Roles', nodeRoles(n));
  d.kv(0, 'Unschedulable', n.spec?.unschedulable ? 'true' : 'false');
  const taints = (n.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  if (taints.length === 0) d.kv(0, 'Taints', NONE);
  else taints.forEach((t, i) => d.kv(0, i === 0 ? 'Taints' : '', t));
  conditions(d, n.status?.conditions);
  d.section(0, 'Addresses');
  for (const a of n.status?.addresses ?? []) d.kv(1, a.type ?? '', a.address);
  d.section(0, 'Capacity');
  for (const [k, v] of Object.entries(n.status?.capacity ?? {})) d.kv(1, k, v);
  d.section(0, 'Allocatable');
  for (const [k, v] of Object.entries(n.status?.allocatable ?? {})) d.kv(1, k, v);
  const i = n.status?.nodeInfo;
  if (i) {
    d.section(0, 'System Info');
    d.kv(1, 'Kernel Version', i.kernelVersion);
    d.kv(1, 'OS Image', i.osImage);
    d.kv(1, 'Container Runtime Version', i.containerRuntimeVersion);
    d.kv(1, 'Kubelet Version', i.kubeletVersion);
  }
}

/** Any other field of the object, as nested "Key: value" lines (kubectl's generic describer). */
function generic(d: Describer, value: unknown, level: number): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item !== null && typeof item === 'object') {
        d.text(level, '-');
        generic(d, item, level + 1);
      } else d.text(level, String(item));
    }
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = k.charAt(0).toUpperCase() + k.slice(1);
    if (v !== null && typeof v === 'object') {
      if (Object.keys(v).length === 0) continue;
      d.section(level, key);
      generic(d, v, level + 1);
    } else d.kv(level, key, String(v));
  }
}

function describePdb(d: Describer, pdb: PodDisruptionBudget): void {
  d.kv(0, 'Name', pdb.metadata?.name);
  d.kv(0, 'Namespace', pdb.metadata?.namespace);
  if (pdb.spec?.minAvailable) d.kv(0, 'Min available', intOrString(pdb.spec.minAvailable));
  else if (pdb.spec?.maxUnavailable) d.kv(0, 'Max unavailable', intOrString(pdb.spec.maxUnavailable));
  d.kv(0, 'Selector', pdb.spec?.selector ? formatLabelSelector(pdb.spec.selector) : '<unset>');
  d.section(0, 'Status');
  const st = pdb.status;
  d.kv(2, 'Allowed disruptions', st?.disruptionsAllowed ?? 0);
  d.kv(2, 'Current', st?.currentHealthy ?? 0);
  d.kv(2, 'Desired', st?.desiredHealthy ?? 0);
  d.kv(2, 'Total', st?.expectedPods ?? 0);
}

function workload(d: Describer, o: KubeObject & { spec?: { selector?: LabelSelector; replicas?: number; template?: PodTemplateSpec } }, status: string): void {
  if (o.spec?.replicas !== undefined) d.kv(0, 'Replicas', `${o.spec.replicas} desired`);
  d.kv(0, 'Pods Status', status);
  template(d, o.spec?.selector, o.spec?.template);
}

/**
 * Describes one object; `events` are those whose involvedObject is this object, `replicaSets` (for a
 * Deployment) those it controls.
 */
export function describeObject(o: KubeObject, events: readonly Event[], namespaced: boolean, nowMs: number, replicaSets?: readonly ReplicaSet[]): string {
  const d = new Describer();
  // kubectl's PodDisruptionBudget description has no labels, annotations or timestamps.
  if (o.kind === 'PodDisruptionBudget') describePdb(d, o as PodDisruptionBudget);
  else metadata(d, o, namespaced);
  switch (o.kind) {
    case 'PodDisruptionBudget':
      break;
    case 'Pod':
      describePod(d, o as Pod);
      break;
    case 'Deployment':
      describeDeployment(d, o as Deployment, replicaSets);
      break;
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job': {
      const s = (o as { status?: Record<string, number | undefined> }).status ?? {};
      workload(d, o as never, `${s.readyReplicas ?? s.numberReady ?? s.active ?? 0} Running / ${s.succeeded ?? 0} Succeeded / ${s.failed ?? 0} Failed`);
      conditions(d, (o as { status?: { conditions?: [] } }).status?.conditions);
      break;
    }
    case 'Service':
      describeService(d, o as Service);
      break;
    case 'Node':
      describeNode(d, o as Node);
      break;
    case 'Namespace':
      d.kv(0, 'Status', (o as Namespace).status?.phase || 'Active');
      break;
    case 'ConfigMap': {
      const cm = o as ConfigMap;
      d.text(0, 'Data');
      d.text(0, '====');
      for (const [k, v] of Object.entries(cm.data ?? {})) {
        d.text(0, `${k}:`);
        d.text(0, '----');
        d.text(0, v);
        d.text(0, '');
      }
      for (const [k, v] of Object.entries(cm.binaryData ?? {})) d.text(0, `${k}: ${v.length} bytes`);
      break;
    }
    case 'Secret': {
      const sec = o as Secret;
      d.kv(0, 'Type', sec.type || 'Opaque');
      d.text(0, 'Data');
      d.text(0, '====');
      for (const [k, v] of Object.entries(sec.data ?? {})) d.text(0, `${k}:  ${v.length} bytes`);
      break;
    }
    default: {
      const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = encodeObject(o);
      generic(d, rest, 0);
    }
  }
  if (events.length === 0) return d.kv(0, 'Events', NONE).render();
  let text = d.render();
  const t = new Table(['Type', 'Reason', 'Age', 'From', 'Message']);
  const rows = [...events]
    .sort((a, b) => Date.parse(a.lastTimestamp || a.eventTime || '') - Date.parse(b.lastTimestamp || b.eventTime || ''))
    .map((e) => [
      e.type ?? '',
      e.reason ?? '',
      `${age(e.lastTimestamp || e.eventTime || e.firstTimestamp, nowMs)}${(e.count ?? 1) > 1 ? ` (x${e.count} over ${age(e.firstTimestamp, nowMs)})` : ''}`,
      e.source?.component || e.reportingComponent || '',
      e.message ?? '',
    ]);
  const rule = ['----', '------', '----', '----', '-------'];
  t.fit(rows).fit([rule]);
  text += 'Events:\n';
  for (const line of [t.header(), t.line(rule), ...rows.map((r) => t.line(r))]) text += `  ${line}`;
  return text;
}
