// The outcome of one plugin call, as kube-scheduler's framework.Status. Success is `null` on the
// hot paths, so a node that passes every filter allocates nothing.

export const Code = {
  Success: "Success",
  /** Something is broken (a bug, a missing cycle state); the attempt is retried with backoff. */
  Error: "Error",
  /** The pod does not fit now; preemption may help. */
  Unschedulable: "Unschedulable",
  /** The pod does not fit and evicting pods would not change that. */
  UnschedulableAndUnresolvable: "UnschedulableAndUnresolvable",
  /** The plugin has nothing to do for this pod: its later extension points are not called. */
  Skip: "Skip",
} as const;

export type StatusCode = (typeof Code)[keyof typeof Code];

export class Status {
  constructor(
    readonly code: StatusCode,
    readonly reasons: readonly string[] = [],
    /** The plugin that returned it; the framework fills it in when a plugin leaves it empty. */
    readonly plugin = "",
  ) {}

  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }

  static error(reason: string): Status {
    return new Status(Code.Error, [reason]);
  }

  static skip(): Status {
    return SKIP;
  }

  isRejection(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable;
  }

  /** The reasons joined as Kubernetes prints a status message. */
  message(): string {
    return this.reasons.join(", ");
  }

  withPlugin(plugin: string): Status {
    return this.plugin === plugin ? this : new Status(this.code, this.reasons, plugin);
  }
}

const SKIP = new Status(Code.Skip);

/** What a plugin call returns: null is Success. */
export type StatusOrNull = Status | null;

export function isSuccess(s: StatusOrNull): boolean {
  return s === null || s.code === Code.Success;
}
