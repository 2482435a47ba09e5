// A Deployment's revisions, as `kubectl rollout history` and `rollout undo` find them: the
// ReplicaSets it controls (by ownerReference uid, among those its selector matches), keyed by their
// deployment.kubernetes.io/revision annotation. Undo is kubectl's JSON patch: the chosen
// ReplicaSet's template without its pod-template-hash label, and its annotations in place of the
// Deployment's own (those the controller and apply keep are carried over).

import { encodeObject } from '../../pkg/api/convert/object.js';
import type { Deployment, ReplicaSet } from '../../pkg/api/registry.js';
import { labelSelectorToString } from '../../pkg/api/labels.js';
import type { NavarchClient } from '../../pkg/client/mod.js';
import { equalIgnoreHash, withoutHashLabel } from '../../pkg/controllers/deployment/hash.js';
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION } from '../../pkg/controllers/deployment/util.js';
import { LAST_APPLIED_ANNOTATION } from './apply_patch.js';
import { describePodTemplate } from './print/describe.js';

export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

/** Annotations a rollback takes from the Deployment rather than from the ReplicaSet (kubectl's annotationsToSkip). */
const KEPT_FROM_DEPLOYMENT = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

/** A ReplicaSet's revision: 0 without the annotation, undefined when it is not a number (kubectl skips those). */
function revisionOfRS(rs: ReplicaSet): number | undefined {
  const v = rs.metadata?.annotations?.[REVISION_ANNOTATION];
  if (v === undefined) return 0;
  return /^[0-9]+$/.test(v) ? Number(v) : undefined;
}

/** The ReplicaSets the Deployment controls, by revision. */
export function revisionsOf(d: Deployment, replicaSets: readonly ReplicaSet[]): Map<number, ReplicaSet> {
  const uid = d.metadata?.uid;
  const out = new Map<number, ReplicaSet>();
  for (const rs of replicaSets) {
    if (!(rs.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === uid)) continue;
    const v = revisionOfRS(rs);
    if (v !== undefined) out.set(v, rs);
  }
  return out;
}

/** The ReplicaSets the Deployment controls (among those its selector matches, by ownerReference uid). */
export async function ownedReplicaSets(client: NavarchClient, d: Deployment): Promise<ReplicaSet[]> {
  const list = await client.listAll<ReplicaSet>('replicasets', { namespace: d.metadata?.namespace ?? '', labelSelector: labelSelectorToString(d.spec?.selector) });
  return list.items.filter((rs) => (rs.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === d.metadata?.uid));
}

export async function fetchRevisions(client: NavarchClient, d: Deployment): Promise<Map<number, ReplicaSet>> {
  return revisionsOf(d, await ownedReplicaSets(client, d));
}

/**
 * `rollout history`'s text as kubectl prints it: "deployment.apps/NAME " (and "with revision #N"),
 * then the revision table or that revision's pod template, then a blank line.
 */
export function historyText(name: string, revisions: ReadonlyMap<number, ReplicaSet>, revision = 0): string {
  const header = `deployment.apps/${name} ${revision > 0 ? `with revision #${revision}` : ''}\n`;
  if (revisions.size === 0) return `${header}No rollout history found.\n`;
  if (revision > 0) {
    const rs = revisions.get(revision);
    if (!rs) throw new Error('unable to find the specified revision');
    const tpl = structuredClone(rs.spec?.template);
    const cause = rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
    if (tpl && cause) tpl.metadata = { ...tpl.metadata, annotations: { ...tpl.metadata?.annotations, [CHANGE_CAUSE_ANNOTATION]: cause } } as typeof tpl.metadata;
    return `${header}${describePodTemplate(tpl)}\n`;
  }
  const rows = [...revisions.keys()].sort((a, b) => a - b).map((r) => [String(r), revisions.get(r)!.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] || '<none>']);
  const width = Math.max('REVISION'.length, ...rows.map(([r]) => r.length)) + 2;
  return `${header}${[['REVISION', 'CHANGE-CAUSE'], ...rows].map(([r, c]) => `${r.padEnd(width)}${c}\n`).join('')}\n`;
}

/** The ReplicaSet to roll back to: `toRevision`, or the one before the newest (kubectl's deploymentRevision). */
export function rollbackTarget(name: string, revisions: ReadonlyMap<number, ReplicaSet>, toRevision: number): ReplicaSet {
  if (toRevision > 0) {
    const rs = revisions.get(toRevision);
    if (!rs) throw new Error(`unable to find specified revision ${toRevision} in history`);
    return rs;
  }
  const sorted = [...revisions.keys()].sort((a, b) => b - a);
  if (sorted.length < 2) throw new Error(`no rollout history found for deployment "${name}"`);
  return revisions.get(sorted[1])!;
}

export type JsonPatchOp = { op: 'replace'; path: string; value: unknown };

/** kubectl's rollback patch, or undefined when the Deployment already runs that template. */
export function undoPatch(d: Deployment, rs: ReplicaSet): JsonPatchOp[] | undefined {
  if (equalIgnoreHash(rs.spec?.template, d.spec?.template)) return undefined;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (KEPT_FROM_DEPLOYMENT.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) if (!KEPT_FROM_DEPLOYMENT.has(k)) annotations[k] = v;
  // The patch is JSON as Kubernetes writes it, so the template goes through the ReplicaSet's JSON form.
  const bare = { ...rs, spec: { ...rs.spec, template: withoutHashLabel(rs.spec?.template) } } as ReplicaSet;
  const template = (encodeObject(bare).spec as Record<string, unknown> | undefined)?.template;
  return [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}
