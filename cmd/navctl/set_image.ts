// `navctl set image deployment/web web=nginx:1.27 [sidecar=...] [*=image]`: kubectl's strategic
// merge patch of the pod template's containers by name, with `$setElementOrder` keeping their
// order. Works on pods and on every kind with a pod template.

import type { Command } from 'commander';
import type { Container, PodSpec } from '../../gen/navarch/api/v1/core.js';
import type { KubeObject } from '../../pkg/api/registry.js';
import { namesOrSelected, parseGetArgs } from './get.js';
import { dryRunSuffix, kindPrefix, namespaceFor, out, parseDryRun, report, withSession } from './session.js';

type Json = Record<string, unknown>;

/** Where each kind keeps its pod spec, as a path of JSON keys. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** "web=nginx:1.27" arguments as container → image; "*" means every container. */
export function parseImageArgs(args: readonly string[]): { resources: string[]; images: Map<string, string> } {
  const resources: string[] = [];
  const images = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq < 0) {
      if (images.size) throw new Error(`all resources must be specified before image changes: ${a}`);
      resources.push(a);
    } else if (eq === 0 || eq === a.length - 1) throw new Error(`invalid image change "${a}": expected CONTAINER=IMAGE`);
    else images.set(a.slice(0, eq), a.slice(eq + 1));
  }
  if (images.size === 0) throw new Error('at least one image update is required: CONTAINER=IMAGE');
  if (images.has('*') && images.size > 1) throw new Error('all containers are already specified by *, but saw more than one container_name=container_image pairs');
  return { resources, images };
}

export interface ImagePatch {
  /** The strategic merge patch; undefined when every image found is already as asked. */
  patch: Json | undefined;
  /** Named containers the pod spec does not have (kubectl still patches the others, then fails). */
  missing: string[];
}

/** The strategic merge patch for one object's pod spec. */
export function imagePatch(kind: string, spec: PodSpec | undefined, images: ReadonlyMap<string, string>): ImagePatch {
  const path = POD_SPEC_PATHS[kind];
  if (!path) throw new Error(`cannot set images of a ${kind}: it has no pod template`);
  const found = new Set<string>();
  const podPatch: Json = {};
  for (const list of ['initContainers', 'containers'] as const) {
    const containers: readonly Container[] = spec?.[list] ?? [];
    const changed: Json[] = [];
    for (const c of containers) {
      const image = images.get(c.name ?? '') ?? images.get('*');
      if (image === undefined) continue;
      found.add(c.name ?? '');
      if (c.image !== image) changed.push({ image, name: c.name });
    }
    if (changed.length) {
      podPatch[`$setElementOrder/${list}`] = containers.map((c) => ({ name: c.name }));
      podPatch[list] = changed;
    }
  }
  const missing = [...images.keys()].filter((name) => name !== '*' && !found.has(name));
  if (Object.keys(podPatch).length === 0) return { patch: undefined, missing };
  return { patch: path.reduceRight<Json>((inner, key) => ({ [key]: inner }), podPatch), missing };
}

function podSpecOf(kind: string, o: KubeObject): PodSpec | undefined {
  let v: unknown = o;
  for (const key of POD_SPEC_PATHS[kind] ?? []) v = (v as Json | undefined)?.[key];
  return v as PodSpec | undefined;
}

export function registerSetImage(program: Command): void {
  const set = program.command('set').description('change one field of existing objects');
  set
    .command('image')
    .description("set containers' images: set image deployment/web web=nginx:1.27 (or *=IMAGE for every container)")
    .argument('<args...>', 'TYPE NAME or TYPE/NAME, then CONTAINER=IMAGE ...')
    .option('-l, --selector <selector>', 'the objects of the type matching this label selector')
    .option('--all', 'every object of the type in the namespace')
    .option('--dry-run [mode]', 'client: only check; server: the server checks, stores nothing')
    .action((args: string[], f: { selector?: string; all?: boolean; dryRun?: string | boolean }) =>
      withSession(program, async (s) => {
        const { resources, images } = parseImageArgs(args);
        const dryRun = parseDryRun(f.dryRun);
        for (const r of parseGetArgs(resources)) {
          const ns = namespaceFor(r.info, s.namespace);
          for (const name of await namesOrSelected(s, r, f)) {
            try {
              const cur = await s.client.get(r.info.resource, ns, name);
              const { patch, missing } = imagePatch(r.info.kind, podSpecOf(r.info.kind, cur), images);
              if (patch) {
                if (dryRun !== 'client') await s.client.patch(r.info.resource, ns, name, 'strategic', patch, { dryRun: dryRun === 'server' });
                out(`${kindPrefix(r.info)}/${name} image updated${dryRunSuffix(dryRun)}\n`);
              }
              for (const c of missing) report(new Error(`unable to find container named "${c}"`));
            } catch (e) {
              report(e);
            }
          }
        }
      }),
    );
}
