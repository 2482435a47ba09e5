// `navctl scale deployment/web --replicas=N`: sets the replicas of Deployments, ReplicaSets and
// StatefulSets through their scale subresource, as kubectl does. --current-replicas and
// --resource-version are preconditions: checked against a fresh read of the Scale, which the update
// then carries, so a change in between is a conflict that is read and checked again, never overwritten.

import type { Command } from 'commander';
import type { KindInfo, KubeObject, Scale } from '../../pkg/api/registry.js';
import { isApiError } from '../../pkg/client/mod.js';
import { namesOrSelected, parseGetArgs } from './get.js';
import { dryRunSuffix, kindPrefix, namespaceFor, out, parseDryRun, parseDuration, report, withSession, type DryRun, type Session } from './session.js';

/** kubectl's retry of a precondition write that lost a race: once a second, for 5 minutes. */
const CONFLICT_RETRY_INTERVAL_MS = 1000;
/** How often --timeout looks whether the replicas are there (kubectl: once a second). */
const WAIT_POLL_MS = 1000;
const CONFLICT_RETRY_MS = 5 * 60_000;

export interface ScalePreconditions {
  /** -1: not checked. */
  currentReplicas: number;
  resourceVersion?: string;
}

interface ScaleFlags {
  replicas?: string;
  currentReplicas?: string;
  resourceVersion?: string;
  selector?: string;
  all?: boolean;
  timeout?: string;
  dryRun?: string | boolean;
}

export function parseReplicas(flag: string, text: string | undefined, missing: number): number {
  if (text === undefined) return missing;
  if (!/^-?[0-9]+$/.test(text.trim())) throw new Error(`Invalid ${flag} "${text}": expected a whole number`);
  return Number(text);
}

/** kubectl's precondition error, or undefined when the Scale meets them. */
export function preconditionFailure(o: KubeObject & { spec?: { replicas?: number } }, p: ScalePreconditions): string | undefined {
  const replicas = o.spec?.replicas ?? 0;
  if (p.currentReplicas >= 0 && replicas !== p.currentReplicas) return `Expected replicas to be ${p.currentReplicas}, was ${replicas}`;
  const rv = o.metadata?.resourceVersion ?? '';
  if (p.resourceVersion !== undefined && rv !== p.resourceVersion) return `Expected resource version to be ${p.resourceVersion}, was ${rv}`;
  return undefined;
}

/**
 * As kubectl: without preconditions a merge patch of the Scale; with them a read of the Scale, the
 * check, and an update carrying the Scale's resourceVersion (a lost race is read and checked again).
 */
async function scaleOne(s: Session, info: KindInfo, name: string, replicas: number, p: ScalePreconditions, dryRun: DryRun): Promise<void> {
  const ns = namespaceFor(info, s.namespace);
  const checked = p.currentReplicas >= 0 || p.resourceVersion !== undefined;
  if (!checked) {
    if (dryRun === 'client') await s.client.get(info.resource, ns, name, { subresource: 'scale' });
    else await s.client.patch(info.resource, ns, name, 'merge', { spec: { replicas } }, { subresource: 'scale', dryRun: dryRun === 'server' });
    return;
  }
  const giveUpAt = Date.now() + CONFLICT_RETRY_MS;
  for (;;) {
    const cur = await s.client.get<Scale>(info.resource, ns, name, { subresource: 'scale' });
    const failure = preconditionFailure(cur, p);
    if (failure) throw new Error(failure);
    if (dryRun === 'client') return;
    try {
      await s.client.update<Scale>({ ...cur, spec: { replicas } }, { resource: info.resource, subresource: 'scale', dryRun: dryRun === 'server' });
      return;
    } catch (e) {
      if (!isApiError(e, 'Conflict') || Date.now() >= giveUpAt) throw e;
    }
    await new Promise((r) => setTimeout(r, CONFLICT_RETRY_INTERVAL_MS));
  }
}

/**
 * kubectl's wait for --timeout: until the Scale's status shows the replicas asked for, or someone
 * else set another number (nothing left to wait for), polling once a second.
 */
export function scaleSynced(cur: Scale, replicas: number): boolean {
  const spec = cur.spec?.replicas ?? 0;
  return spec !== replicas || (cur.status?.replicas ?? 0) === replicas;
}

async function waitForReplicas(s: Session, info: KindInfo, name: string, replicas: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ns = namespaceFor(info, s.namespace);
  for (;;) {
    if (scaleSynced(await s.client.get<Scale>(info.resource, ns, name, { subresource: 'scale' }), replicas)) return;
    const leftMs = deadline - Date.now();
    if (leftMs <= 0) throw new Error(`timed out waiting for "${name}" to be synced`);
    await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, leftMs)));
  }
}

async function scale(s: Session, args: string[], f: ScaleFlags): Promise<void> {
  const replicas = parseReplicas('--replicas', f.replicas, -1);
  if (replicas < 0) throw new Error('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  const p: ScalePreconditions = { currentReplicas: parseReplicas('--current-replicas', f.currentReplicas, -1), resourceVersion: f.resourceVersion };
  if (p.currentReplicas < -1) throw new Error('The --current-replicas must specify an integer of -1 or greater');
  const dryRun = parseDryRun(f.dryRun);
  const timeoutMs = f.timeout === undefined ? 0 : parseDuration('--timeout', f.timeout);
  let seen = 0;
  for (const r of parseGetArgs(args)) {
    if (!r.info.hasScale) throw new Error(`cannot scale ${r.info.resource}: only deployments, replicasets and statefulsets have replicas to scale`);
    const names = await namesOrSelected(s, r, f);
    if (names.length > 1 && p.resourceVersion !== undefined) throw new Error('cannot use --resource-version with multiple resources');
    seen += names.length;
    for (const name of names) {
      try {
        await scaleOne(s, r.info, name, replicas, p, dryRun);
        if (timeoutMs > 0 && dryRun === 'none') await waitForReplicas(s, r.info, name, replicas, timeoutMs);
        out(`${kindPrefix(r.info)}/${name} scaled${dryRunSuffix(dryRun)}\n`);
      } catch (e) {
        report(e);
      }
    }
  }
  if (seen === 0) throw new Error('no objects passed to scale');
}

export function registerScale(program: Command): void {
  program
    .command('scale')
    .description('set the number of replicas of deployments, replicasets or statefulsets: scale deployment/web --replicas=3')
    .argument('<args...>', 'TYPE NAME... or TYPE/NAME...')
    .option('--replicas <n>', 'the new number of replicas')
    .option('--current-replicas <n>', 'only if the current number of replicas is this')
    .option('--resource-version <rv>', 'only if the object is still at this resourceVersion')
    .option('-l, --selector <selector>', 'the objects matching this label selector')
    .option('--all', 'every object of the type in the namespace')
    .option('--timeout <duration>', 'wait this long for the replicas to be there, e.g. 1m (0: do not wait)', '0s')
    .option('--dry-run [mode]', 'client: only check; server: the server checks, stores nothing')
    .action((args: string[], f: ScaleFlags) => withSession(program, (s) => scale(s, args, f)));
}
