// What one probe run gives, shared by the probe kinds and the manager.

export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeOutcome {
  /** unknown: the probe could not be run at all (e.g. the runtime failed); such results are not counted. */
  result: ProbeResult;
  /** What the probe saw: the command's output, the HTTP status, the connect error. */
  output: string;
}

/** Runs argv in the container (the runtime's exec); resolves with the exit code and combined output. */
export type ExecFn = (argv: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }>;

/** Output kept from a command or a response body. */
export const MAX_OUTPUT_BYTES = 10 * 1024;
