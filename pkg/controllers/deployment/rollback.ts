// Rollback through the deprecated.deployment.rollback.to annotation, as Kubernetes' rollback.go
// still honours it (the round-tripped rollbackTo field of extensions/v1beta1, which
// `kubectl rollout undo` no longer uses: it patches the template itself). The revision named (0:
// the one before the current) has its ReplicaSet's template and annotations copied back onto the
// Deployment; the annotation is removed in the same update, whatever happened.

import type { Deployment, ReplicaSet } from '../../api/registry.js';
import { deepCopy } from '../../api/deep_copy.js';
import { equalIgnoreHash, withoutHashLabel } from './hash.js';
import { getAllReplicaSetsAndSyncRevision, type SyncContext, type SyncTarget } from './sync.js';
import { lastRevision, revisionOf, ROLLBACK_TO_ANNOTATION, setDeploymentAnnotationsTo } from './util.js';

/** The revision the annotation asks for, or undefined (absent or not a number: ignored, as Kubernetes). */
export function rollbackTo(d: Deployment): number | undefined {
  const v = d.metadata?.annotations?.[ROLLBACK_TO_ANNOTATION];
  if (v === undefined || v === '' || !/^-?[0-9]+$/.test(v)) return undefined;
  return Number(v);
}

/** Removes the annotation with an update of the Deployment (carrying what else the rollback set). */
async function updateAndClearRollbackTo(c: SyncContext, d: Deployment): Promise<void> {
  delete d.metadata!.annotations[ROLLBACK_TO_ANNOTATION];
  await c.client.update(d);
}

export async function rollback(c: SyncContext, t: SyncTarget): Promise<void> {
  const d = t.d;
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(c, t, true);
  const all = [...oldRSs, ...(newRS ? [newRS] : [])];
  let revision = rollbackTo(d) ?? 0;
  if (revision === 0) {
    revision = lastRevision(all);
    if (revision === 0) {
      c.recorder.event(d, 'Warning', 'DeploymentRollbackRevisionNotFound', 'Unable to find last revision.');
      return updateAndClearRollbackTo(c, d);
    }
  }
  const target = all.find((rs) => revisionOf(rs) === revision);
  if (target === undefined) {
    c.recorder.event(d, 'Warning', 'DeploymentRollbackRevisionNotFound', 'Unable to find the revision to rollback to.');
    return updateAndClearRollbackTo(c, d);
  }
  await rollbackToTemplate(c, d, target, revision);
}

async function rollbackToTemplate(c: SyncContext, d: Deployment, rs: ReplicaSet, revision: number): Promise<void> {
  const changed = !equalIgnoreHash(d.spec?.template, rs.spec?.template);
  if (changed) {
    d.spec!.template = deepCopy(withoutHashLabel(rs.spec?.template));
    setDeploymentAnnotationsTo(d, rs);
  } else {
    c.recorder.event(d, 'Warning', 'DeploymentRollbackTemplateUnchanged', `The rollback revision contains the same template as current deployment ${JSON.stringify(d.metadata?.name ?? '')}`);
  }
  await updateAndClearRollbackTo(c, d);
  if (changed) c.recorder.event(d, 'Normal', 'DeploymentRollback', `Rolled back deployment ${JSON.stringify(d.metadata?.name ?? '')} to revision ${revision}`);
}
