// `navctl delete RESOURCE NAME... | TYPE/NAME... | -f FILE | -l selector [--all]`, with kubectl's
// grace period, cascade and wait. With --wait (the default, as kubectl) it returns once every
// object is really gone, not merely marked for deletion.

import type { Command } from 'commander';
import type { PropagationPolicy } from '../../pkg/apiserver/delete.js';
import type { KindInfo } from '../../pkg/api/registry.js';
import { isApiError } from '../../pkg/client/mod.js';
import { addManifestOptions, targetOf } from './apply.js';
import { parseGetArgs } from './get.js';
import { processIo, readManifests, where } from './manifests.js';
import { dryRunSuffix, err, kindPrefix, namespaceFor, out, parseDryRun, parseDuration, report, withSession, type Session } from './session.js';

export interface DeleteFlags {
  filename: string[];
  recursive?: boolean;
  selector?: string;
  all?: boolean;
  gracePeriod?: string;
  now?: boolean;
  force?: boolean;
  cascade?: string;
  wait?: boolean;
  timeout?: string;
  ignoreNotFound?: boolean;
  dryRun?: string | boolean;
}

const WAIT_POLL_MS = 200;

/** --cascade: background, foreground, orphan; kubectl's old true / false too. */
export function parseCascade(v: string | undefined): PropagationPolicy {
  switch (v ?? 'background') {
    case 'background':
    case 'true':
      return 'Background';
    case 'foreground':
      return 'Foreground';
    case 'orphan':
    case 'false':
      return 'Orphan';
    default:
      throw new Error(`Invalid --cascade "${v}": expected background, foreground or orphan`);
  }
}

/**
 * The grace period to send, as kubectl's: --now is 1 s; 0 becomes 1 (a pod still gets to stop)
 * unless --force, which alone means 0. Undefined: the object's default.
 */
export function parseGrace(flags: Pick<DeleteFlags, 'gracePeriod' | 'now' | 'force'>): number | undefined {
  let n = -1;
  if (flags.gracePeriod !== undefined) {
    n = Number(flags.gracePeriod);
    if (!Number.isInteger(n)) throw new Error(`Invalid --grace-period "${flags.gracePeriod}": expected a whole number of seconds (-1: the object's default)`);
  }
  if (n === 0 && !flags.force) n = 1;
  if (flags.force && n < 0) n = 0;
  if (flags.now) {
    if (n !== -1) throw new Error('--now and --grace-period cannot be specified together');
    n = 1;
  }
  return n < 0 ? undefined : n;
}

const FORCE_WARNING = 'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.';

interface Victim {
  info: KindInfo;
  namespace: string | undefined;
  name: string;
  /** For messages about a manifest's object. */
  context?: string;
}

async function waitGone(s: Session, v: Victim, uid: string | undefined, deadline: number): Promise<void> {
  for (;;) {
    try {
      const o = await s.client.get(v.info.resource, v.namespace, v.name);
      // A new object under the old name is not the one we deleted.
      if (uid && o.metadata?.uid !== uid) return;
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      throw e;
    }
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${kindPrefix(v.info)}/${v.name} to be deleted`);
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
}

async function deleteAll(s: Session, args: string[], flags: DeleteFlags): Promise<void> {
  const grace = parseGrace(flags);
  if (grace === 0 && flags.force) err(`${FORCE_WARNING}\n`);
  const policy = parseCascade(flags.cascade);
  const dryRun = parseDryRun(flags.dryRun);
  const timeoutMs = flags.timeout === undefined ? 0 : parseDuration('--timeout', flags.timeout);
  const victims: Victim[] = [];
  if (flags.filename.length > 0) {
    if (args.length) throw new Error('when deleting with -f, do not name resources as arguments');
    for (const item of readManifests(flags.filename, flags.recursive ?? false, processIo)) {
      const t = targetOf(s, item, 'deleting');
      if (t) victims.push({ info: t.info, namespace: t.namespace, name: t.name, context: `error when deleting ${where(item)}: ` });
    }
  } else {
    const requests = parseGetArgs(args);
    for (const r of requests) {
      const ns = namespaceFor(r.info, s.namespace);
      if (r.names.length) {
        if (flags.selector || flags.all) throw new Error('name cannot be provided when a selector or --all is specified');
        for (const name of r.names) victims.push({ info: r.info, namespace: ns, name });
        continue;
      }
      if (!flags.selector && !flags.all) throw new Error(`resource(s) were provided, but no name was specified: give names, -l selector or --all`);
      const list = await s.client.listAll(r.info.resource, { namespace: ns ?? '', labelSelector: flags.selector });
      for (const o of list.items) victims.push({ info: r.info, namespace: ns, name: o.metadata?.name ?? '' });
    }
    if (victims.length === 0) err(`No resources found${requests.some((r) => r.info.namespaced) ? ` in ${s.namespace} namespace` : ''}\n`);
  }
  const pending: Array<{ v: Victim; uid: string | undefined }> = [];
  for (const v of victims) {
    try {
      // A client dry run still reads the object, so a missing one is reported as it would be.
      const res =
        dryRun === 'client'
          ? { deleted: true, object: await s.client.get(v.info.resource, v.namespace, v.name) }
          : await s.client.delete(v.info.resource, v.namespace, v.name, { gracePeriodSeconds: grace, propagationPolicy: policy, dryRun: dryRun === 'server' });
      out(`${v.info.singular}${v.info.group ? `.${v.info.group}` : ''} "${v.name}" deleted${dryRunSuffix(dryRun)}\n`);
      if (!res.deleted && dryRun === 'none') pending.push({ v, uid: res.object.metadata?.uid });
    } catch (e) {
      if (flags.ignoreNotFound && isApiError(e, 'NotFound')) continue;
      report(e, v.context);
    }
  }
  if (flags.wait === false) return;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  for (const { v, uid } of pending) {
    try {
      await waitGone(s, v, uid, deadline);
    } catch (e) {
      report(e, v.context);
    }
  }
}

export function registerDelete(program: Command): void {
  addManifestOptions(
    program
      .command('delete')
      .description('delete objects by name (RESOURCE NAME... or TYPE/NAME...), by manifest (-f) or by label (-l)')
      .argument('[resource...]', 'resource type, then names; or TYPE/NAME pairs'),
  )
    .option('-l, --selector <selector>', 'delete the objects matching this label selector')
    .option('--all', 'delete every object of the type in the namespace')
    .option('--grace-period <seconds>', "seconds a pod gets to stop; -1: the object's default; 0 is taken as 1 unless --force")
    .option('--now', 'same as --grace-period=1: the objects are told to stop at once')
    .option('--force', 'with --grace-period=0 (or none): remove the objects from the API at once, without waiting for their containers to stop')
    .option('--cascade <policy>', 'background, foreground or orphan (what happens to dependents)', 'background')
    .option('--wait [bool]', 'wait until the objects are gone (default true; --wait=false to return at once)', (v: string) => v !== 'false', true)
    .option('--no-wait', 'return once the deletion is accepted')
    .option('--timeout <duration>', 'with --wait: give up after this long (0: no limit)', '0')
    .option('--ignore-not-found', 'treat a missing object as deleted')
    .action((args: string[], flags: DeleteFlags) => withSession(program, (s) => deleteAll(s, args, flags)));
}
