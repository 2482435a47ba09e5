// controller.kubernetes.io/pod-deletion-cost: which pods a ReplicaSet scales down first. Read as
// Kubernetes' GetDeletionCostFromPodAnnotations: an int32 with no sign but "-" and no leading zero.

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The cost the annotation text gives, or undefined when it is not a valid one. */
export function parseDeletionCost(text: string): number | undefined {
  if (!/^(-[1-9]\d*|0|[1-9]\d*)$/.test(text)) return undefined;
  const n = Number(text);
  return n >= INT32_MIN && n <= INT32_MAX ? n : undefined;
}
