// `navctl cordon|uncordon NODE...` and `navctl drain NODE`: kubectl's node maintenance commands.
// Cordon marks a node unschedulable (the scheduler places nothing new there); drain cordons it,
// then deletes its pods with their grace periods and waits until they are gone, refusing, as
// kubectl does, pods that nothing would recreate (no controller), DaemonSet pods and pods with
// emptyDir data unless told otherwise. There is no Eviction API (and so no PodDisruptionBudget)
// yet: drain deletes, as `kubectl drain --disable-eviction` does.

import type { Command } from 'commander';
import { KINDS, type Node, type Pod } from '../../pkg/api/registry.js';
import { isApiError } from '../../pkg/client/mod.js';
import { waitGone } from './delete.js';
import { err, out, parseDryRun, parseDuration, report, withSession, type Session } from './session.js';

const POD_INFO = KINDS.find((k) => k.kind === 'Pod')!;
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export interface DrainFlags {
  force?: boolean;
  ignoreDaemonsets?: boolean;
  deleteEmptydirData?: boolean;
  gracePeriod?: string;
  timeout?: string;
  podSelector?: string;
  dryRun?: string | boolean;
}

export interface DrainPlan {
  /** Pods to delete, in list order. */
  delete: Pod[];
  /** "Warning: ..." lines. */
  warnings: string[];
  /** Reasons the drain cannot go on; empty: it can. */
  errors: string[];
}

const ref = (p: Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;
const controllerOf = (p: Pod) => (p.metadata?.ownerReferences ?? []).find((r) => r.controller);

/** kubectl's drain filters over the pods on a node: which go, which are skipped, which block the drain. */
export function planDrain(pods: readonly Pod[], f: Pick<DrainFlags, 'force' | 'ignoreDaemonsets' | 'deleteEmptydirData'>): DrainPlan {
  const daemonSet: string[] = [];
  const unreplicated: string[] = [];
  const localStorage: string[] = [];
  const plan: DrainPlan = { delete: [], warnings: [], errors: [] };
  for (const p of pods) {
    if (p.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) continue;
    const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    if (controllerOf(p)?.kind === 'DaemonSet' && !finished) {
      daemonSet.push(ref(p));
      continue;
    }
    if (!finished && !controllerOf(p)) unreplicated.push(ref(p));
    if (!finished && (p.spec?.volumes ?? []).some((v) => v.emptyDir)) localStorage.push(ref(p));
    plan.delete.push(p);
  }
  const list = (xs: string[]) => xs.join(', ');
  if (daemonSet.length) {
    if (f.ignoreDaemonsets) plan.warnings.push(`Warning: ignoring DaemonSet-managed Pods: ${list(daemonSet)}`);
    else plan.errors.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${list(daemonSet)}`);
  }
  if (unreplicated.length) {
    if (f.force) plan.warnings.push(`Warning: deleting Pods that declare no controller: ${list(unreplicated)}`);
    else plan.errors.push(`cannot delete Pods that declare no controller (use --force to override): ${list(unreplicated)}`);
  }
  if (localStorage.length) {
    if (f.deleteEmptydirData) plan.warnings.push(`Warning: deleting Pods with local storage: ${list(localStorage)}`);
    else plan.errors.push(`cannot delete Pods with local storage (use --delete-emptydir-data to override): ${list(localStorage)}`);
  }
  return plan;
}

/** Sets or clears spec.unschedulable; false when the node already was so. */
async function setUnschedulable(s: Session, name: string, on: boolean, dryRun: boolean): Promise<boolean> {
  const node = await s.client.get<Node>('nodes', undefined, name);
  if ((node.spec?.unschedulable ?? false) === on) return false;
  if (!dryRun) await s.client.patch('nodes', undefined, name, 'strategic', { spec: { unschedulable: on ? true : null } });
  return true;
}

async function nodeNames(s: Session, args: readonly string[], selector: string | undefined): Promise<string[]> {
  const names = args.map((a) => a.replace(/^(nodes?|no)\//, ''));
  if (selector) names.push(...(await s.client.listAll<Node>('nodes', { labelSelector: selector })).items.map((n) => n.metadata?.name ?? ''));
  if (names.length === 0) throw new Error('at least one node name (or -l selector) is required');
  return names;
}

async function cordon(s: Session, args: string[], on: boolean, f: { selector?: string; dryRun?: string | boolean }): Promise<void> {
  const dry = parseDryRun(f.dryRun) !== 'none';
  const verb = on ? 'cordoned' : 'uncordoned';
  for (const name of await nodeNames(s, args, f.selector)) {
    try {
      const changed = await setUnschedulable(s, name, on, dry);
      out(`node/${name} ${changed ? verb : `already ${verb}`}${dry && changed ? ' (dry run)' : ''}\n`);
    } catch (e) {
      report(e);
    }
  }
}

async function drainOne(s: Session, name: string, f: DrainFlags): Promise<void> {
  const dry = parseDryRun(f.dryRun) !== 'none';
  out(`node/${name} ${(await setUnschedulable(s, name, true, dry)) ? 'cordoned' : 'already cordoned'}\n`);
  const pods = (await s.client.listAll<Pod>('pods', { fieldSelector: `spec.nodeName=${name}`, labelSelector: f.podSelector })).items;
  const plan = planDrain(pods, f);
  if (plan.errors.length) throw new Error(`unable to drain node "${name}": ${plan.errors.join('; ')}`);
  for (const w of plan.warnings) err(`${w}\n`);
  const grace = f.gracePeriod === undefined || Number(f.gracePeriod) < 0 ? undefined : Number(f.gracePeriod);
  const timeoutMs = f.timeout ? parseDuration('--timeout', f.timeout) : 0;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  // All at once, as kubectl: each pod's grace period runs in parallel with the others'.
  await Promise.all(
    plan.delete.map(async (p) => {
      const [ns, podName, uid] = [p.metadata!.namespace!, p.metadata!.name!, p.metadata?.uid];
      out(`deleting pod ${ns}/${podName}${dry ? ' (dry run)' : ''}\n`);
      if (dry) return;
      try {
        await s.client.delete('pods', ns, podName, { gracePeriodSeconds: grace, preconditions: uid ? { uid } : undefined });
      } catch (e) {
        // Gone already, or replaced by a pod of the same name: not this drain's to delete.
        if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
      }
      await waitGone(s, { info: POD_INFO, namespace: ns, name: podName }, uid, deadline);
      out(`pod/${podName} deleted\n`);
    }),
  );
  out(`node/${name} drained${dry ? ' (dry run)' : ''}\n`);
}

async function drain(s: Session, args: string[], f: DrainFlags & { selector?: string }): Promise<void> {
  if (f.gracePeriod !== undefined && !/^-?\d+$/.test(f.gracePeriod)) throw new Error(`Invalid --grace-period "${f.gracePeriod}": expected whole seconds (-1: each pod's own)`);
  for (const name of await nodeNames(s, args, f.selector)) {
    try {
      await drainOne(s, name, f);
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
      .option('--dry-run [mode]', 'say what would change, change nothing')
      .action((args: string[], f: { selector?: string; dryRun?: string | boolean }) => withSession(program, (s) => cordon(s, args, on, f)));
  }
  program
    .command('drain')
    .description("cordon nodes, then delete their pods (each with its grace period) and wait until they are gone")
    .argument('[nodes...]', 'node names')
    .option('-l, --selector <selector>', 'the nodes matching this label selector')
    .option('--pod-selector <selector>', 'only the pods matching this label selector')
    .option('--force', 'also delete pods that no controller would recreate')
    .option('--ignore-daemonsets', 'leave DaemonSet-managed pods in place instead of refusing')
    .option('--delete-emptydir-data', 'also delete pods with emptyDir volumes (their data is lost)')
    .option('--grace-period <seconds>', "seconds each pod gets to stop (default -1: the pod's own)")
    .option('--timeout <duration>', 'give up waiting after this long, e.g. 2m (default: no limit)')
    .option('--dry-run [mode]', 'say what would be deleted, change nothing')
    .action((args: string[], f: DrainFlags & { selector?: string }) => withSession(program, (s) => drain(s, args, f)));
}

