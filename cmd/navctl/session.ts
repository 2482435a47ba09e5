// What every object command shares: the global flags turned into a client and a namespace, kind
// lookup with kubectl's messages, and errors printed the way kubectl prints them (exit code 1).

import type { Command } from 'commander';
import { resolveResource, type KindInfo } from '../../pkg/api/registry.js';
import { ApiError, NavarchClient } from '../../pkg/client/mod.js';
import { resolveFromProcess, type ResolvedConfig } from './config.js';

export interface GlobalFlags {
  server?: string;
  config?: string;
  namespace?: string;
  requestTimeout?: string;
}

/** Where command output goes. */
export const out = (text: string): void => void process.stdout.write(text);
export const err = (text: string): void => void process.stderr.write(text);

/** "0" (no limit), "30" (seconds), "500ms", "30s", "2m", "1h": kubectl's duration flags. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`Invalid ${flag} "${text}": expected a duration such as 500ms, 30s, 2m or 0 for no limit`);
  const unit = m[2] ?? 's';
  return Math.round(Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

/** Without --request-timeout: how long to keep trying other masters (a leader election takes about a second). */
const DEFAULT_RETRY_DEADLINE_MS = 5000;

/** --dry-run: none (write), client (compute and print, send no write), server (the server checks, stores nothing). */
export type DryRun = 'none' | 'client' | 'server';

export function parseDryRun(v: string | boolean | undefined): DryRun {
  if (v === undefined || v === false || v === 'none') return 'none';
  if (v === true || v === 'client') return 'client';
  if (v === 'server') return 'server';
  throw new Error(`Invalid --dry-run "${v}": expected none, client or server`);
}

/** What kubectl appends to each line of a dry run. */
export function dryRunSuffix(d: DryRun): string {
  return d === 'client' ? ' (dry run)' : d === 'server' ? ' (server dry run)' : '';
}

export class Session {
  readonly client: NavarchClient;
  /** The namespace commands act in: -n, else the config's. */
  readonly namespace: string;
  /** -n was given: a manifest's own namespace must match it. */
  readonly explicitNamespace: boolean;
  readonly config: ResolvedConfig;

  constructor(flags: GlobalFlags) {
    this.config = resolveFromProcess({ server: flags.server, config: flags.config });
    const timeoutMs = flags.requestTimeout === undefined ? 0 : parseDuration('--request-timeout', flags.requestTimeout);
    this.client = new NavarchClient({
      endpoints: this.config.endpoints,
      ...(timeoutMs > 0 ? { callTimeoutMs: timeoutMs, retryDeadlineMs: timeoutMs } : { retryDeadlineMs: DEFAULT_RETRY_DEADLINE_MS }),
    });
    this.explicitNamespace = flags.namespace !== undefined;
    this.namespace = flags.namespace ?? this.config.namespace;
  }

  close(): void {
    this.client.close();
  }
}

/** The kind a user names (plural, singular, short name); kubectl's message when there is none. */
export function resolveKind(text: string): KindInfo {
  const info = resolveResource(text);
  if (!info) throw new Error(`the server doesn't have a resource type "${text}"`);
  return info;
}

/** "pod" or "deployment.apps", as kubectl names a kind before "/name". */
export function kindPrefix(info: KindInfo): string {
  return info.group ? `${info.singular}.${info.group}` : info.singular;
}

/** The namespace argument for a kind: undefined for cluster-scoped kinds. */
export function namespaceFor(info: KindInfo, namespace: string): string | undefined {
  return info.namespaced ? namespace : undefined;
}

/** A failed call could not reach any master (as opposed to an answer from one). */
function unreachable(e: ApiError): boolean {
  return e.code === 'Unavailable' && /^(Cannot reach master|Master .* did not answer in time)/.test(e.message);
}

/** One line of kubectl-style error text for anything a command throws. */
export function formatError(e: unknown, context = ''): string {
  if (e instanceof ApiError) {
    // grpc-js appends an empty "Resolution note:" to connection errors.
    if (unreachable(e)) return `Unable to connect to the server: ${e.message.replace(/\.? Resolution note:\s*$/, '')}`;
    return `Error from server (${e.reason}): ${context}${e.message}`;
  }
  return `error: ${context}${e instanceof Error ? e.message : String(e)}`;
}

/** Prints the error and makes the command exit 1, without stopping the rest of its work. */
export function report(e: unknown, context = ''): void {
  err(`${formatError(e, context)}\n`);
  process.exitCode = 1;
}

/** Runs a command body with a session from the program's global flags; errors are reported, the client closed. */
export function withSession(program: Command, body: (s: Session) => Promise<void>): Promise<void> {
  let s: Session | undefined;
  return (async () => {
    try {
      s = new Session(program.opts<GlobalFlags>());
      await body(s);
    } catch (e) {
      report(e);
    } finally {
      s?.close();
    }
  })();
}
