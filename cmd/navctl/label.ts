// `navctl label|annotate RESOURCE NAME... key=value key2- [--overwrite]`: sets and removes labels or
// annotations with a merge patch. Changing an existing value needs --overwrite, as in kubectl; the
// patch carries the resourceVersion that was checked, so a concurrent change is re-read, not lost.

import type { Command } from 'commander';
import type { KubeObject } from '../../pkg/api/registry.js';
import { isApiError } from '../../pkg/client/mod.js';
import { namesOrSelected, parseGetArgs } from './get.js';
import { kindPrefix, namespaceFor, out, report, withSession, type Session } from './session.js';

export interface MetaChanges {
  set: Record<string, string>;
  remove: string[];
}

interface Field {
  /** "labels" or "annotations". */
  field: 'labels' | 'annotations';
  /** "label" / "annotation", for messages. */
  noun: string;
  /** "labeled" / "annotated". */
  done: string;
}

const LABELS: Field = { field: 'labels', noun: 'label', done: 'labeled' };
const ANNOTATIONS: Field = { field: 'annotations', noun: 'annotation', done: 'annotated' };

/** Splits arguments into the resource part and the changes (key=value, key-). */
export function splitChangeArgs(args: readonly string[]): { resources: string[]; changes: MetaChanges } {
  const resources: string[] = [];
  const changes: MetaChanges = { set: {}, remove: [] };
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) {
      const key = a.slice(0, eq);
      if (key in changes.set || changes.remove.includes(key)) throw new Error(`can not both modify and remove the same key "${key}" more than once`);
      changes.set[key] = a.slice(eq + 1);
    } else if (a.endsWith('-') && a.length > 1) {
      const key = a.slice(0, -1);
      if (key in changes.set) throw new Error(`can not both modify and remove the same key "${key}"`);
      changes.remove.push(key);
    } else if (eq === 0) throw new Error(`invalid change "${a}": expected key=value or key-`);
    else resources.push(a);
  }
  return { resources, changes };
}

/** The patch for one object, or an error when a value would change without --overwrite; undefined: nothing to do. */
export function metaPatch(current: Record<string, string>, changes: MetaChanges, overwrite: boolean, noun: string): Record<string, string | null> | undefined {
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(changes.set)) {
    if (k in current && current[k] !== v && !overwrite) throw new Error(`'${k}' already has a value (${current[k]}), and --overwrite is false`);
    if (current[k] !== v) patch[k] = v;
  }
  for (const k of changes.remove) {
    if (k in current) patch[k] = null;
    else process.stderr.write(`${noun} "${k}" not found.\n`);
  }
  return Object.keys(patch).length ? patch : undefined;
}

async function changeOne(s: Session, f: Field, resource: string, ns: string | undefined, name: string, changes: MetaChanges, overwrite: boolean): Promise<boolean> {
  for (;;) {
    const cur: KubeObject = await s.client.get(resource, ns, name);
    const patch = metaPatch(cur.metadata?.[f.field] ?? {}, changes, overwrite, f.noun);
    if (!patch) return false;
    try {
      await s.client.patch(resource, ns, name, 'merge', { metadata: { [f.field]: patch, resourceVersion: cur.metadata?.resourceVersion } });
      return true;
    } catch (e) {
      if (!isApiError(e, 'Conflict')) throw e;
    }
  }
}

async function change(s: Session, f: Field, args: string[], flags: { overwrite?: boolean; selector?: string; all?: boolean }): Promise<void> {
  const { resources, changes } = splitChangeArgs(args);
  if (Object.keys(changes.set).length === 0 && changes.remove.length === 0) throw new Error(`at least one ${f.noun} update is required`);
  for (const r of parseGetArgs(resources)) {
    const ns = namespaceFor(r.info, s.namespace);
    for (const name of await namesOrSelected(s, r, flags)) {
      try {
        const changed = await changeOne(s, f, r.info.resource, ns, name, changes, flags.overwrite ?? false);
        out(`${kindPrefix(r.info)}/${name} ${changed ? f.done : `not ${f.done}`}\n`);
      } catch (e) {
        report(e);
      }
    }
  }
}

function register(program: Command, f: Field, verb: string): void {
  program
    .command(verb)
    .description(`add, change (--overwrite) or remove (key-) ${f.field}: ${verb} RESOURCE NAME... key=value key2-`)
    .argument('<args...>', 'resource type and names (or TYPE/NAME), then key=value and key- changes')
    .option('--overwrite', `allow changing an existing ${f.noun}'s value`)
    .option('-l, --selector <selector>', 'the objects matching this label selector')
    .option('--all', 'every object of the type in the namespace')
    .action((args: string[], flags: { overwrite?: boolean; selector?: string; all?: boolean }) => withSession(program, (s) => change(s, f, args, flags)));
}

export function registerLabel(program: Command): void {
  register(program, LABELS, 'label');
}

export function registerAnnotate(program: Command): void {
  register(program, ANNOTATIONS, 'annotate');
}
