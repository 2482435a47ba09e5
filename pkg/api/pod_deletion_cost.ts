// controller.kubernetes.io/pod-deletion-cost: which pods a ReplicaSet scales down first. Read as
// Kubernetes' GetDeletionCostFromPodAnnotations: an int32 starting with "-" or a digit, where a
// leading "0" is only allowed as "0" itself ("+10" and "007" are refused; "-007" is -7).

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The cost the annotation text gives, or undefined when it is not a valid one. */
export function parseDeletionCost(text: string): number | undefined {
  if (!/^(0|-\d+|[1-9]\d*)$/.test(text)) return undefined;
  const n = Number(text);
  return n >= INT32_MIN && n <= INT32_MAX ? n + 0 : undefined; // + 0: "-0" is 0
}
