// The Deployment controller: ReplicaSets per pod template, rolling and recreate rollouts,
// revisions and rollback, pause, progress deadlines, and the status `kubectl rollout status` reads.

export { DeploymentController, type DeploymentControllerOptions } from './deployment_controller.js';
export { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from './hash.js';
export { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION } from './util.js';
