// `navctl describe RESOURCE NAME...` (or -l selector): each object in human-readable form with the
// events whose involvedObject is that object.

import type { Command } from 'commander';
import { kindByName, type Deployment, type Event, type KindInfo, type KubeObject, type ReplicaSet } from '../../pkg/api/registry.js';
import { ownedReplicaSets } from './rollout_history.js';
import { describeObject } from './print/describe.js';
import { err, namespaceFor, out, report, resolveKind, withSession, type Session } from './session.js';

/** Events about one object: same kind, name and namespace, and the same uid when the event records one. */
async function eventsFor(s: Session, info: KindInfo, o: KubeObject): Promise<Event[]> {
  const m = o.metadata;
  const fields = [`involvedObject.kind=${info.kind}`, `involvedObject.name=${m?.name ?? ''}`];
  if (info.namespaced) fields.push(`involvedObject.namespace=${m?.namespace ?? ''}`);
  const list = await s.client.listAll<Event>(kindByName('Event').resource, { namespace: info.namespaced ? (m?.namespace ?? '') : '', fieldSelector: fields.join(',') });
  return list.items.filter((e) => !e.involvedObject?.uid || e.involvedObject.uid === m?.uid);
}

async function describe(s: Session, type: string, names: string[], flags: { selector?: string }): Promise<void> {
  const info = resolveKind(type);
  const ns = namespaceFor(info, s.namespace);
  const objects: KubeObject[] = [];
  if (names.length === 0) {
    const list = await s.client.listAll(info.resource, { namespace: ns ?? '', labelSelector: flags.selector });
    objects.push(...list.items);
    if (objects.length === 0) err(`No resources found${ns ? ` in ${ns} namespace` : ''}.\n`);
  }
  for (const name of names) {
    try {
      objects.push(await s.client.get(info.resource, ns, name));
    } catch (e) {
      report(e);
    }
  }
  for (const [i, o] of objects.entries()) {
    let events: Event[] = [];
    try {
      events = await eventsFor(s, info, o);
    } catch (e) {
      report(e, 'cannot list events: ');
    }
    let replicaSets: ReplicaSet[] | undefined;
    if (info.kind === 'Deployment') {
      try {
        replicaSets = await ownedReplicaSets(s.client, o as Deployment);
      } catch (e) {
        report(e, 'cannot list replica sets: ');
      }
    }
    out(`${i > 0 ? '\n\n' : ''}${describeObject(o, events, info.namespaced, Date.now(), replicaSets)}`);
  }
}

export function registerDescribe(program: Command): void {
  program
    .command('describe <resource> [names...]')
    .description('show objects in detail, with their events')
    .option('-l, --selector <selector>', 'describe the objects matching this label selector (without names)')
    .action((type: string, names: string[], flags: { selector?: string }) => withSession(program, (s) => describe(s, type, names, flags)));
}
