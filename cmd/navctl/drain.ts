// `navctl cordon|uncordon NODE...` and `navctl drain NODE...`: kubectl's node maintenance commands.
// Cordon marks a node unschedulable (the scheduler places nothing new there); drain cordons every
// node named, then for each evicts its pods (all at once, each retried every 5 s while its
// PodDisruptionBudget allows no disruption) and waits until they are gone; --disable-eviction
// deletes them instead, bypassing the budgets. As kubectl, it refuses pods that nothing would
// recreate (no controller), DaemonSet pods and pods with emptyDir data unless told otherwise, and
// leaves mirror pods alone.

import type { Command } from 'commander';
import { KINDS, type Node, type Pod } from '../../pkg/api/registry.js';
import { isNamespaceTerminating } from '../../pkg/apiserver/api_error.js';
import { isApiError } from '../../pkg/client/mod.js';
import { dryRunSuffix, err, out, parseDryRun, parseDuration, report, withSession, type DryRun, type Session } from './session.js';

const POD_INFO = KINDS.find((k) => k.kind === 'Pod')!;
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
/** kubectl's default page size for drain's lists. */
const DEFAULT_CHUNK_SIZE = 500;
/** How often drain looks whether its pods are gone (kubectl: once a second). */
const DELETE_POLL_MS = 1000;
/** How long drain waits before evicting a pod again that its budget protects (kubectl: 5 s). */
const EVICTION_RETRY_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface DrainFlags {
  force?: boolean;
  ignoreDaemonsets?: boolean;
  deleteEmptydirData?: boolean;
  deleteLocalData?: boolean;
  disableEviction?: boolean;
  gracePeriod?: string;
  timeout?: string;
  skipWaitForDeleteTimeout?: string;
  podSelector?: string;
  selector?: string;
  chunkSize?: string;
  dryRun?: string | boolean;
}

/** kubectl's filter verdicts, per pod. */
type Verdict = { delete: true; warning?: string } | { delete: false; warning?: string; error?: string };

export interface DrainPlan {
  /** Pods to delete, in list order. */
  delete: Pod[];
  /** kubectl's one warning line ("msg: ns/a, ns/b; msg2: ..."), or "". */
  warning: string;
  /** "cannot delete <what>: ns/a, ns/b" for each reason the drain cannot go on; empty: it can. */
  errors: string[];
}

export interface DrainPolicy {
  force?: boolean;
  ignoreDaemonsets?: boolean;
  deleteEmptydirData?: boolean;
  /** Skip pods deleted longer ago than this many seconds; 0: never. */
  skipWaitForDeleteTimeoutSeconds?: number;
  nowMs?: number;
}

const ref = (p: Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;
const controllerOf = (p: Pod) => (p.metadata?.ownerReferences ?? []).find((r) => r.controller);
const finished = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Its deletion began more than skipS seconds ago (kubectl's --skip-wait-for-delete-timeout; 0: never). */
function deletedLongAgo(p: Pod, skipS: number, nowMs: number): boolean {
  const deletedAt = p.metadata?.deletionTimestamp ? Date.parse(p.metadata.deletionTimestamp) : NaN;
  return skipS > 0 && deletedAt + skipS * 1000 < nowMs;
}

/** Several errors as one line, as Go's utilerrors aggregate prints them: one as itself, more in brackets. */
function aggregate(messages: readonly string[]): string {
  return messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
}

/** kubectl's error when a node's pods could not all be removed, naming those left. */
function pendingPodsError(message: string, node: string, left: ReadonlyMap<string, Pod>): Error {
  const pending = [...left.values()].map((p) => `pod/${p.metadata?.name}\n`).join('');
  return new Error(`${message}\nThere are pending pods in node "${node}" when an error occurred:\n${pending}`.trimEnd());
}

/**
 * kubectl's drain filters, in its order (skip long-deleted, DaemonSet, mirror, local storage,
 * unreplicated); the first that keeps a pod decides. `daemonSetMissing(ns, name)` says a pod's
 * DaemonSet is gone (its orphans may be deleted with --force).
 */
function verdict(p: Pod, f: DrainPolicy, daemonSetMissing: (ns: string, name: string) => string | undefined): Verdict {
  if (deletedLongAgo(p, f.skipWaitForDeleteTimeoutSeconds ?? 0, f.nowMs ?? Date.now())) return { delete: false };
  let warning: string | undefined;
  const owner = controllerOf(p);
  if (owner?.kind === 'DaemonSet' && !finished(p)) {
    const missing = daemonSetMissing(p.metadata?.namespace ?? '', owner.name ?? '');
    if (missing !== undefined) {
      if (!f.force) return { delete: false, error: missing };
      warning = missing;
    } else if (!f.ignoreDaemonsets) return { delete: false, error: 'DaemonSet-managed Pods (use --ignore-daemonsets to ignore)' };
    else return { delete: false, warning: 'ignoring DaemonSet-managed Pods' };
  }
  if (p.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) return { delete: false };
  if (!finished(p) && (p.spec?.volumes ?? []).some((v) => v.emptyDir)) {
    if (!f.deleteEmptydirData) return { delete: false, error: 'Pods with local storage (use --delete-emptydir-data to override)' };
    warning = 'deleting Pods with local storage';
  }
  if (!finished(p) && !owner) {
    if (!f.force) return { delete: false, error: 'Pods declare no controller (use --force to override)' };
    warning = 'deleting Pods that declare no controller';
  }
  return { delete: true, warning };
}

/** Groups "message → pods" in first-seen order. */
function grouped(entries: Array<[string, Pod]>): Array<[string, string]> {
  const m = new Map<string, string[]>();
  for (const [msg, p] of entries) m.set(msg, [...(m.get(msg) ?? []), ref(p)]);
  return [...m].map(([msg, pods]) => [msg, pods.join(', ')]);
}

export function planDrain(pods: readonly Pod[], f: DrainPolicy, daemonSetMissing: (ns: string, name: string) => string | undefined = () => undefined): DrainPlan {
  const warnings: Array<[string, Pod]> = [];
  const errors: Array<[string, Pod]> = [];
  const plan: DrainPlan = { delete: [], warning: '', errors: [] };
  for (const p of pods) {
    const v = verdict(p, f, daemonSetMissing);
    if (v.warning) warnings.push([v.warning, p]);
    if (v.delete) plan.delete.push(p);
    else if (v.error) errors.push([v.error, p]);
  }
  plan.warning = grouped(warnings)
    .map(([msg, list]) => `${msg}: ${list}`)
    .join('; ');
  plan.errors = grouped(errors).map(([msg, list]) => `cannot delete ${msg}: ${list}`);
  return plan;
}

/** Sets or clears spec.unschedulable; false when the node already was so. */
async function setUnschedulable(s: Session, name: string, on: boolean, dryRun: DryRun): Promise<boolean> {
  const node = await s.client.get<Node>('nodes', undefined, name);
  if ((node.spec?.unschedulable ?? false) === on) return false;
  if (dryRun !== 'client') await s.client.patch('nodes', undefined, name, 'strategic', { spec: { unschedulable: on ? true : null } }, { dryRun: dryRun === 'server' });
  return true;
}

async function nodeNames(s: Session, args: readonly string[], selector: string | undefined, pageSize?: number): Promise<string[]> {
  const names = args.map((a) => a.replace(/^(nodes?|no)\//, ''));
  if (names.length > 0 && selector) throw new Error('cannot specify both a node name and a --selector option');
  if (selector) names.push(...(await s.client.listAll<Node>('nodes', { labelSelector: selector, pageSize })).items.map((n) => n.metadata?.name ?? ''));
  if (names.length === 0) throw new Error(selector ? `no nodes match the selector "${selector}"` : 'USAGE: navctl cordon|uncordon|drain NODE [NODE...] (or -l selector)');
  return names;
}

async function cordon(s: Session, args: string[], on: boolean, f: { selector?: string; dryRun?: string | boolean }): Promise<void> {
  const dryRun = parseDryRun(f.dryRun);
  const verb = on ? 'cordoned' : 'uncordoned';
  for (const name of await nodeNames(s, args, f.selector)) {
    try {
      out(`node/${name} ${(await setUnschedulable(s, name, on, dryRun)) ? verb : `already ${verb}`}${dryRunSuffix(dryRun)}\n`);
    } catch (e) {
      report(e);
    }
  }
}

/** Deletes the pods one by one, then polls them together until all are gone; a failure names those left. */
async function deleteAndWait(s: Session, node: string, pods: readonly Pod[], grace: number | undefined, deadline: number): Promise<void> {
  const left = new Map<string, Pod>(pods.map((p) => [ref(p), p]));
  try {
    for (const p of pods) {
      const uid = p.metadata?.uid;
      try {
        await s.client.delete('pods', p.metadata!.namespace!, p.metadata!.name!, { gracePeriodSeconds: grace, preconditions: uid ? { uid } : undefined });
      } catch (e) {
        // Gone already, or replaced by a pod of the same name: not this drain's to delete.
        if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
      }
    }
    for (;;) {
      for (const [key, p] of left) {
        if (!(await podGone(s, p, 0))) continue;
        left.delete(key);
        out(`pod/${p.metadata?.name} deleted\n`);
      }
      if (left.size === 0) return;
      if (Date.now() >= deadline) throw new Error(`drain did not complete within the --timeout`);
      await sleep(DELETE_POLL_MS);
    }
  } catch (e) {
    throw pendingPodsError(e instanceof Error ? e.message : String(e), node, left);
  }
}

/** Go's rendering of a duration, as kubectl prints its --timeout ("1m30s", "90ms"). */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}s`;
}

/** The pod (this uid) is gone, or (skipS > 0) its deletion began longer ago than that. */
async function podGone(s: Session, p: Pod, skipS: number): Promise<boolean> {
  try {
    const cur = await s.client.get<Pod>(POD_INFO.resource, p.metadata!.namespace!, p.metadata!.name!);
    return cur.metadata?.uid !== p.metadata?.uid || deletedLongAgo(cur, skipS, Date.now());
  } catch (e) {
    if (!isApiError(e, 'NotFound')) throw e;
    return true;
  }
}

/** Polls until podGone; false if the deadline came first. */
async function waitGone(s: Session, p: Pod, deadline: number, skipS: number): Promise<boolean> {
  for (;;) {
    if (await podGone(s, p, skipS)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(DELETE_POLL_MS);
  }
}

/**
 * kubectl's evictPods: every pod at once, each evicted until its budget lets it go (429 waits 5 s
 * and tries again), then waited for. The errors of all pods are reported together.
 */
async function evictAndWait(s: Session, node: string, pods: readonly Pod[], o: { grace: number | undefined; timeoutMs: number; dryRun: boolean; skipWaitS: number }): Promise<void> {
  const { grace, timeoutMs, dryRun } = o;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  const left = new Map<string, Pod>(pods.map((p) => [ref(p), p]));
  const one = async (p: Pod): Promise<void> => {
    const ns = p.metadata!.namespace!;
    const name = p.metadata!.name!;
    const who = `pods/${JSON.stringify(name)} -n ${JSON.stringify(ns)}`;
    let active = p;
    for (;;) {
      if (Date.now() >= deadline) throw new Error(`error when evicting ${who}: global timeout reached: ${goDuration(timeoutMs)}`);
      out(`evicting pod ${ns}/${name}${dryRun ? ' (server dry run)' : ''}\n`);
      try {
        await s.client.evict(ns, name, { gracePeriodSeconds: grace, dryRun });
        break;
      } catch (e) {
        if (isApiError(e, 'NotFound')) {
          left.delete(ref(p));
          return;
        }
        const message = e instanceof Error ? e.message : String(e);
        if (isApiError(e, 'TooManyRequests')) err(`error when evicting ${who} (will retry after 5s): ${message}\n`);
        else if (isNamespaceTerminating(e) && active.metadata?.deletionTimestamp) break;
        else if (isNamespaceTerminating(e)) err(`error when evicting pod ${JSON.stringify(name)} from terminating namespace ${JSON.stringify(ns)} (will retry after 5s): ${message}\n`);
        else throw new Error(`error when evicting ${who}: ${message}`);
        await sleep(EVICTION_RETRY_MS);
        // As kubectl: try again with the pod as it is now (it may be terminating meanwhile); on an error, as it was.
        active = await s.client.get<Pod>(POD_INFO.resource, ns, name).catch(() => active);
      }
    }
    if (dryRun) {
      left.delete(ref(p));
      return;
    }
    if (!(await waitGone(s, p, deadline, o.skipWaitS))) throw new Error(`error when waiting for pod ${JSON.stringify(name)} in namespace ${JSON.stringify(ns)} to terminate: timed out waiting for the condition`);
    left.delete(ref(p));
    out(`pod/${name} evicted\n`);
  };
  const failures = (await Promise.allSettled(pods.map(one))).flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  if (failures.length > 0) throw pendingPodsError(aggregate(failures), node, left);
}

async function drainOne(s: Session, name: string, f: DrainFlags, dryRun: DryRun, pageSize: number): Promise<void> {
  const pods = (await s.client.listAll<Pod>('pods', { fieldSelector: `spec.nodeName=${name}`, labelSelector: f.podSelector, pageSize })).items;
  // The DaemonSets the node's pods name, looked up once each: a missing one leaves orphans.
  const missing = new Map<string, string | undefined>();
  for (const p of pods) {
    const owner = controllerOf(p);
    if (owner?.kind !== 'DaemonSet' || finished(p)) continue;
    const key = `${p.metadata?.namespace}/${owner.name}`;
    if (missing.has(key)) continue;
    try {
      await s.client.get('daemonsets', p.metadata?.namespace, owner.name ?? '');
      missing.set(key, undefined);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
      missing.set(key, `daemonsets.apps "${owner.name}" not found`);
    }
  }
  const skip = f.skipWaitForDeleteTimeout === undefined ? 0 : Number(f.skipWaitForDeleteTimeout);
  const plan = planDrain(pods, { force: f.force, ignoreDaemonsets: f.ignoreDaemonsets, deleteEmptydirData: f.deleteEmptydirData || f.deleteLocalData, skipWaitForDeleteTimeoutSeconds: skip }, (ns, ds) =>
    missing.get(`${ns}/${ds}`),
  );
  if (plan.errors.length) {
    const all = aggregate(plan.errors);
    throw new Error(`unable to drain node "${name}" due to error: ${all}, continuing command...\nThere are pending nodes to be drained:\n ${name}\n${plan.errors.join('\n')}`);
  }
  if (plan.warning) err(`Warning: ${plan.warning}\n`);
  const grace = f.gracePeriod === undefined || Number(f.gracePeriod) < 0 ? undefined : Number(f.gracePeriod);
  const timeoutMs = f.timeout ? parseDuration('--timeout', f.timeout) : 0;
  if (dryRun === 'client') {
    for (const p of plan.delete) out(f.disableEviction ? `pod/${p.metadata?.name} deleted (dry run)\n` : `evicting pod ${p.metadata?.namespace}/${p.metadata?.name} (dry run)\n`);
  } else if (!f.disableEviction) {
    await evictAndWait(s, name, plan.delete, { grace, timeoutMs, dryRun: dryRun === 'server', skipWaitS: skip });
  } else if (dryRun === 'server') {
    for (const p of plan.delete) {
      await s.client.delete('pods', p.metadata!.namespace!, p.metadata!.name!, { dryRun: true });
      out(`pod/${p.metadata?.name} deleted (server dry run)\n`);
    }
  } else {
    await deleteAndWait(s, name, plan.delete, grace, timeoutMs > 0 ? Date.now() + timeoutMs : Infinity);
  }
  out(`node/${name} drained${dryRunSuffix(dryRun)}\n`);
}

async function drain(s: Session, args: string[], f: DrainFlags): Promise<void> {
  if (f.gracePeriod !== undefined && !/^-?\d+$/.test(f.gracePeriod)) throw new Error(`Invalid --grace-period "${f.gracePeriod}": expected whole seconds (-1: each pod's own)`);
  if (f.skipWaitForDeleteTimeout !== undefined && !/^\d+$/.test(f.skipWaitForDeleteTimeout)) throw new Error(`Invalid --skip-wait-for-delete-timeout "${f.skipWaitForDeleteTimeout}": expected whole seconds`);
  if (f.chunkSize !== undefined && !/^\d+$/.test(f.chunkSize)) throw new Error(`Invalid --chunk-size "${f.chunkSize}": expected a whole number of items per page (0: no paging)`);
  const pageSize = f.chunkSize === undefined ? DEFAULT_CHUNK_SIZE : Number(f.chunkSize);
  const dryRun = parseDryRun(f.dryRun);
  // Every node is cordoned before any is drained, so that pods leaving one do not land on the next.
  const cordoned: string[] = [];
  for (const name of await nodeNames(s, args, f.selector, pageSize)) {
    try {
      out(`node/${name} ${(await setUnschedulable(s, name, true, dryRun)) ? 'cordoned' : 'already cordoned'}${dryRunSuffix(dryRun)}\n`);
      cordoned.push(name);
    } catch (e) {
      report(e);
    }
  }
  for (const name of cordoned) {
    try {
      await drainOne(s, name, f, dryRun, pageSize);
    } catch (e) {
      report(e);
    }
  }
}

export function registerNodeMaintenance(program: Command): void {
  for (const [verb, on, what] of [
    ['cordon', true, 'mark nodes unschedulable: the scheduler places no new pods there'],
    ['uncordon', false, 'mark nodes schedulable again'],
  ] as const) {
    program
      .command(verb)
      .description(what)
      .argument('[nodes...]', 'node names')
      .option('-l, --selector <selector>', 'the nodes matching this label selector')
      .option('--dry-run [mode]', 'client: say what would change; server: the server checks, stores nothing')
      .action((args: string[], f: { selector?: string; dryRun?: string | boolean }) => withSession(program, (s) => cordon(s, args, on, f)));
  }
  program
    .command('drain')
    .description('cordon nodes, then evict their pods (as their PodDisruptionBudgets allow, each with its grace period) and wait until they are gone')
    .argument('[nodes...]', 'node names')
    .option('-l, --selector <selector>', 'the nodes matching this label selector')
    .option('--pod-selector <selector>', 'only the pods matching this label selector')
    .option('--force', 'also delete pods that no controller would recreate')
    .option('--ignore-daemonsets', 'leave DaemonSet-managed pods in place instead of refusing')
    .option('--delete-emptydir-data', 'also delete pods with emptyDir volumes (their data is lost)')
    .option('--delete-local-data', 'deprecated name of --delete-emptydir-data')
    .option('--disable-eviction', 'delete pods instead of evicting them, bypassing their PodDisruptionBudgets')
    .option('--grace-period <seconds>', "seconds each pod gets to stop (default -1: the pod's own)")
    .option('--timeout <duration>', 'give up waiting after this long, e.g. 2m (default: no limit)')
    .option('--skip-wait-for-delete-timeout <seconds>', 'skip pods whose deletion began longer ago than this (0: wait for all)')
    .option('--chunk-size <n>', 'list nodes and pods in pages of this many (0: in one answer)', String(DEFAULT_CHUNK_SIZE))
    .option('--dry-run [mode]', 'client: say what would be deleted; server: the server checks, stores nothing')
    .action((args: string[], f: DrainFlags) => withSession(program, (s) => drain(s, args, f)));
}
