// The columns `navctl get` prints for each kind, as kubectl prints them. Every kind without its own
// set gets NAME and AGE. `wide` columns appear only with -o wide.

import type {
  ConfigMap,
  CronJob,
  DaemonSet,
  Deployment,
  Endpoints,
  Event,
  HorizontalPodAutoscaler,
  Ingress,
  Job,
  KubeObject,
  Lease,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  PriorityClass,
  ReplicaSet,
  Secret,
  Service,
  StatefulSet,
} from '../../../pkg/api/registry.js';
import type { LabelSelector } from '../../../gen/navarch/api/v1/meta.js';
import type { PodTemplateSpec } from '../../../gen/navarch/api/v1/core.js';
import { age, humanDuration } from './age.js';

export interface Column {
  header: string;
  /** Only with -o wide. */
  wide?: boolean;
  /** The NAME column (gets the "kind/" prefix when several kinds are listed). */
  isName?: boolean;
  cell: (o: KubeObject, nowMs: number) => string;
}

type Cell<T> = (o: T, nowMs: number) => string;

const NONE = '<none>';

function col<T>(header: string, cell: Cell<T>, wide = false): Column {
  return { header, wide, cell: cell as Cell<KubeObject> };
}

const NAME: Column = { header: 'NAME', isName: true, cell: (o) => o.metadata?.name ?? '' };
const AGE = col<KubeObject>('AGE', (o, now) => age(o.metadata?.creationTimestamp, now));
const num = (n: number | undefined): string => String(n ?? 0);
const orNone = (s: string | undefined): string => (s ? s : NONE);

/** "app=web,tier in (a,b)" as kubectl prints a label selector; "<none>" for an empty one. */
export function formatLabelSelector(s: LabelSelector | undefined): string {
  if (!s) return NONE;
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const op = e.operator ?? '';
    if (op === 'Exists') parts.push(e.key ?? '');
    else if (op === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${op.toLowerCase()} (${(e.values ?? []).join(',')})`);
  }
  return parts.length ? parts.join(',') : NONE;
}

export function formatLabels(labels: Record<string, string> | undefined): string {
  const parts = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : NONE;
}

function templateColumns<T extends { spec?: { template?: PodTemplateSpec; selector?: LabelSelector } }>(withSelector = true): Column[] {
  const containers = (o: T) => o.spec?.template?.spec?.containers ?? [];
  return [
    col<T>('CONTAINERS', (o) => orNone(containers(o).map((c) => c.name ?? '').join(',')), true),
    col<T>('IMAGES', (o) => orNone(containers(o).map((c) => c.image ?? '').join(',')), true),
    ...(withSelector ? [col<T>('SELECTOR', (o) => formatLabelSelector(o.spec?.selector), true)] : []),
  ];
}

/** The STATUS column of a pod: the most telling reason among phase, init and app containers. */
export function podStatus(p: Pod): string {
  let reason = p.status?.reason || p.status?.phase || 'Pending';
  const initSpecs = p.spec?.initContainers ?? [];
  let initializing = false;
  for (const [i, s] of (p.status?.initContainerStatuses ?? []).entries()) {
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) continue;
    initializing = true;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode ?? 0}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing') reason = `Init:${s.state.waiting.reason}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    break;
  }
  if (!initializing) {
    let running = false;
    for (const s of [...(p.status?.containerStatuses ?? [])].reverse()) {
      const st = s.state;
      if (st?.waiting?.reason) reason = st.waiting.reason;
      else if (st?.terminated?.reason) reason = st.terminated.reason;
      else if (st?.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode ?? 0}`;
      else if (st?.running && s.ready) running = true;
    }
    if (reason === 'Completed' && running) reason = 'Running';
  }
  if (p.metadata?.deletionTimestamp) reason = p.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

const POD: Column[] = [
  NAME,
  col<Pod>('READY', (p) => `${(p.status?.containerStatuses ?? []).filter((s) => s.ready).length}/${p.spec?.containers?.length ?? 0}`),
  col<Pod>('STATUS', podStatus),
  col<Pod>('RESTARTS', (p) => String((p.status?.containerStatuses ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0))),
  AGE,
  col<Pod>('IP', (p) => orNone(p.status?.podIP), true),
  col<Pod>('NODE', (p) => orNone(p.spec?.nodeName), true),
  col<Pod>('NOMINATED NODE', (p) => orNone(p.status?.nominatedNodeName), true),
  col<Pod>(
    'READINESS GATES',
    (p) => {
      const gates = p.spec?.readinessGates ?? [];
      if (gates.length === 0) return NONE;
      const ok = gates.filter((g) => p.status?.conditions?.some((c) => c.type === g.conditionType && c.status === 'True')).length;
      return `${ok}/${gates.length}`;
    },
    true,
  ),
];

const DEPLOYMENT: Column[] = [
  NAME,
  col<Deployment>('READY', (d) => `${num(d.status?.readyReplicas)}/${num(d.spec?.replicas)}`),
  col<Deployment>('UP-TO-DATE', (d) => num(d.status?.updatedReplicas)),
  col<Deployment>('AVAILABLE', (d) => num(d.status?.availableReplicas)),
  AGE,
  ...templateColumns<Deployment>(),
];

const REPLICASET: Column[] = [
  NAME,
  col<ReplicaSet>('DESIRED', (r) => num(r.spec?.replicas)),
  col<ReplicaSet>('CURRENT', (r) => num(r.status?.replicas)),
  col<ReplicaSet>('READY', (r) => num(r.status?.readyReplicas)),
  AGE,
  ...templateColumns<ReplicaSet>(),
];

const DAEMONSET: Column[] = [
  NAME,
  col<DaemonSet>('DESIRED', (d) => num(d.status?.desiredNumberScheduled)),
  col<DaemonSet>('CURRENT', (d) => num(d.status?.currentNumberScheduled)),
  col<DaemonSet>('READY', (d) => num(d.status?.numberReady)),
  col<DaemonSet>('UP-TO-DATE', (d) => num(d.status?.updatedNumberScheduled)),
  col<DaemonSet>('AVAILABLE', (d) => num(d.status?.numberAvailable)),
  col<DaemonSet>('NODE SELECTOR', (d) => formatLabels(d.spec?.template?.spec?.nodeSelector)),
  AGE,
  ...templateColumns<DaemonSet>(),
];

const STATEFULSET: Column[] = [
  NAME,
  col<StatefulSet>('READY', (s) => `${num(s.status?.readyReplicas)}/${num(s.spec?.replicas)}`),
  AGE,
  ...templateColumns<StatefulSet>(false),
];

function serviceExternalIp(s: Service): string {
  const type = s.spec?.type || 'ClusterIP';
  const external = s.spec?.externalIPs ?? [];
  if (type === 'ExternalName') return orNone(s.spec?.externalName);
  if (type === 'LoadBalancer') {
    const lb = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((x) => x);
    const all = [...lb, ...external];
    return all.length ? all.join(',') : '<pending>';
  }
  return external.length ? external.join(',') : NONE;
}

export function servicePorts(s: Service): string {
  const ports = (s.spec?.ports ?? []).map((p) => `${p.port ?? 0}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol || 'TCP'}`);
  return ports.length ? ports.join(',') : NONE;
}

const SERVICE: Column[] = [
  NAME,
  col<Service>('TYPE', (s) => s.spec?.type || 'ClusterIP'),
  col<Service>('CLUSTER-IP', (s) => orNone(s.spec?.clusterIP)),
  col<Service>('EXTERNAL-IP', serviceExternalIp),
  col<Service>('PORT(S)', servicePorts),
  AGE,
  col<Service>('SELECTOR', (s) => formatLabels(s.spec?.selector), true),
];

export function endpointsList(e: Endpoints, max = 3): string {
  const all: string[] = [];
  for (const s of e.subsets ?? []) {
    const ports = s.ports?.length ? s.ports : [undefined];
    for (const a of s.addresses ?? []) for (const p of ports) all.push(p?.port ? `${a.ip}:${p.port}` : (a.ip ?? ''));
  }
  if (all.length === 0) return NONE;
  return all.length > max ? `${all.slice(0, max).join(',')} + ${all.length - max} more...` : all.join(',');
}

export function nodeStatus(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  const s = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown';
  return n.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

export function nodeRoles(n: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(n.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : NONE;
}

const nodeAddress = (n: Node, type: string): string => orNone(n.status?.addresses?.find((a) => a.type === type)?.address);

const NODE: Column[] = [
  NAME,
  col<Node>('STATUS', nodeStatus),
  col<Node>('ROLES', nodeRoles),
  AGE,
  col<Node>('VERSION', (n) => n.status?.nodeInfo?.kubeletVersion ?? ''),
  col<Node>('INTERNAL-IP', (n) => nodeAddress(n, 'InternalIP'), true),
  col<Node>('EXTERNAL-IP', (n) => nodeAddress(n, 'ExternalIP'), true),
  col<Node>('OS-IMAGE', (n) => n.status?.nodeInfo?.osImage || '<unknown>', true),
  col<Node>('KERNEL-VERSION', (n) => n.status?.nodeInfo?.kernelVersion || '<unknown>', true),
  col<Node>('CONTAINER-RUNTIME', (n) => n.status?.nodeInfo?.containerRuntimeVersion || '<unknown>', true),
];

const ACCESS_MODES: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const accessModes = (m: string[] | undefined): string => (m ?? []).map((x) => ACCESS_MODES[x] ?? x).join(',');

function eventObject(e: Event): string {
  const r = e.involvedObject;
  return `${(r?.kind ?? '').toLowerCase()}/${r?.name ?? ''}`;
}

const COLUMNS: Readonly<Record<string, Column[]>> = {
  Pod: POD,
  Deployment: DEPLOYMENT,
  ReplicaSet: REPLICASET,
  DaemonSet: DAEMONSET,
  StatefulSet: STATEFULSET,
  Service: SERVICE,
  Node: NODE,
  Namespace: [NAME, col<Namespace>('STATUS', (n) => n.status?.phase || 'Active'), AGE],
  ConfigMap: [NAME, col<ConfigMap>('DATA', (c) => String(Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length)), AGE],
  Secret: [
    NAME,
    col<Secret>('TYPE', (s) => s.type || 'Opaque'),
    col<Secret>('DATA', (s) => String(new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]).size)),
    AGE,
  ],
  Endpoints: [NAME, col<Endpoints>('ENDPOINTS', (e) => endpointsList(e)), AGE],
  Event: [
    col<Event>('LAST SEEN', (e, now) => age(e.lastTimestamp || e.eventTime || e.firstTimestamp || e.metadata?.creationTimestamp, now)),
    col<Event>('TYPE', (e) => e.type ?? ''),
    col<Event>('REASON', (e) => e.reason ?? ''),
    col<Event>('OBJECT', eventObject),
    col<Event>('MESSAGE', (e) => e.message ?? ''),
  ],
  Job: [
    NAME,
    col<Job>('COMPLETIONS', (j) => `${num(j.status?.succeeded)}/${j.spec?.completions ?? 1}`),
    col<Job>('DURATION', (j, now) => {
      const start = j.status?.startTime ? Date.parse(j.status.startTime) : NaN;
      if (Number.isNaN(start)) return '';
      const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : now;
      return humanDuration(end - start);
    }),
    AGE,
    ...templateColumns<Job>(),
  ],
  CronJob: [
    NAME,
    col<CronJob>('SCHEDULE', (c) => c.spec?.schedule ?? ''),
    col<CronJob>('SUSPEND', (c) => (c.spec?.suspend ? 'True' : 'False')),
    col<CronJob>('ACTIVE', (c) => String(c.status?.active?.length ?? 0)),
    col<CronJob>('LAST SCHEDULE', (c, now) => (c.status?.lastScheduleTime ? age(c.status.lastScheduleTime, now) : NONE)),
    AGE,
  ],
  PersistentVolume: [
    NAME,
    col<PersistentVolume>('CAPACITY', (p) => p.spec?.capacity?.storage ?? ''),
    col<PersistentVolume>('ACCESS MODES', (p) => accessModes(p.spec?.accessModes)),
    col<PersistentVolume>('RECLAIM POLICY', (p) => p.spec?.persistentVolumeReclaimPolicy ?? ''),
    col<PersistentVolume>('STATUS', (p) => p.status?.phase ?? ''),
    col<PersistentVolume>('CLAIM', (p) => (p.spec?.claimRef ? `${p.spec.claimRef.namespace}/${p.spec.claimRef.name}` : '')),
    col<PersistentVolume>('STORAGECLASS', (p) => p.spec?.storageClassName ?? ''),
    AGE,
  ],
  PersistentVolumeClaim: [
    NAME,
    col<PersistentVolumeClaim>('STATUS', (p) => p.status?.phase ?? ''),
    col<PersistentVolumeClaim>('VOLUME', (p) => p.spec?.volumeName ?? ''),
    col<PersistentVolumeClaim>('CAPACITY', (p) => p.status?.capacity?.storage ?? ''),
    col<PersistentVolumeClaim>('ACCESS MODES', (p) => accessModes(p.status?.accessModes)),
    col<PersistentVolumeClaim>('STORAGECLASS', (p) => p.spec?.storageClassName ?? ''),
    AGE,
  ],
  HorizontalPodAutoscaler: [
    NAME,
    col<HorizontalPodAutoscaler>('REFERENCE', (h) => `${h.spec?.scaleTargetRef?.kind ?? ''}/${h.spec?.scaleTargetRef?.name ?? ''}`),
    col<HorizontalPodAutoscaler>('MINPODS', (h) => String(h.spec?.minReplicas ?? 1)),
    col<HorizontalPodAutoscaler>('MAXPODS', (h) => num(h.spec?.maxReplicas)),
    col<HorizontalPodAutoscaler>('REPLICAS', (h) => num(h.status?.currentReplicas)),
    AGE,
  ],
  Lease: [NAME, col<Lease>('HOLDER', (l) => l.spec?.holderIdentity ?? ''), AGE],
  Ingress: [
    NAME,
    col<Ingress>('CLASS', (i) => i.spec?.ingressClassName ?? NONE),
    col<Ingress>('HOSTS', (i) => (i.spec?.rules ?? []).map((r) => r.host || '*').join(',') || '*'),
    col<Ingress>('ADDRESS', (i) => (i.status?.loadBalancer?.ingress ?? []).map((x) => x.ip || x.hostname || '').join(',')),
    col<Ingress>('PORTS', (i) => (i.spec?.tls?.length ? '80, 443' : '80')),
    AGE,
  ],
  PodDisruptionBudget: [
    NAME,
    col<PodDisruptionBudget>('MIN AVAILABLE', (p) => intOrString(p.spec?.minAvailable)),
    col<PodDisruptionBudget>('MAX UNAVAILABLE', (p) => intOrString(p.spec?.maxUnavailable)),
    col<PodDisruptionBudget>('ALLOWED DISRUPTIONS', (p) => num(p.status?.disruptionsAllowed)),
    AGE,
  ],
  PriorityClass: [
    NAME,
    col<PriorityClass>('VALUE', (p) => num(p.value)),
    col<PriorityClass>('GLOBAL-DEFAULT', (p) => (p.globalDefault ? 'true' : 'false')),
    AGE,
  ],
};

/** An IntOrString as kubectl prints it; N/A when unset. */
export function intOrString(v: { intVal?: number; strVal?: string } | undefined): string {
  if (!v) return 'N/A';
  return v.strVal ?? String(v.intVal ?? 0);
}

const GENERIC: Column[] = [NAME, AGE];

export function columnsFor(kind: string, o: { wide?: boolean } = {}): Column[] {
  const all = COLUMNS[kind] ?? GENERIC;
  return o.wide ? all : all.filter((c) => !c.wide);
}

export interface RowOptions {
  /** A NAMESPACE column first (-A). */
  withNamespace?: boolean;
  /** "pod/" before each name (several kinds in one listing). */
  namePrefix?: string;
}

export function tableHeaders(cols: readonly Column[], o: RowOptions = {}): string[] {
  return [...(o.withNamespace ? ['NAMESPACE'] : []), ...cols.map((c) => c.header)];
}

export function tableRow(obj: KubeObject, cols: readonly Column[], nowMs: number, o: RowOptions = {}): string[] {
  const cells = cols.map((c) => (c.isName && o.namePrefix ? o.namePrefix + c.cell(obj, nowMs) : c.cell(obj, nowMs)));
  return o.withNamespace ? [obj.metadata?.namespace ?? '', ...cells] : cells;
}
