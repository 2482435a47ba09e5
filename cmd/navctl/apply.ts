// `navctl apply -f`: create each object, or patch it toward the manifest with kubectl's three-way
// patch (the last applied manifest is kept in an annotation). Each document stands alone: a bad one
// is reported with its file and position, exit code 1, and the others still apply.

import type { Command } from 'commander';
import { decodeObject, encodeObject } from '../../pkg/api/convert/object.js';
import type { KindInfo, KubeObject } from '../../pkg/api/registry.js';
import { isApiError } from '../../pkg/client/mod.js';
import { LAST_APPLIED_ANNOTATION, lastApplied, threeWayPatch, withLastApplied, type Json } from './apply_patch.js';
import { processIo, readManifests, where, type ManifestItem } from './manifests.js';
import { qualifiedResource } from '../../pkg/apiserver/api_error.js';
import { dryRunSuffix, err, kindPrefix, out, parseDryRun, report, withSession, type DryRun, type Session } from './session.js';

type JsonObject = { [key: string]: Json };

export interface ManifestFlags {
  filename: string[];
  recursive?: boolean;
  dryRun?: string | boolean;
}

export const collect = (v: string, acc: string[]): string[] => [...acc, v];

export function addManifestOptions(c: Command): Command {
  return c
    .option('-f, --filename <path>', 'a manifest file, a directory of them, or - for stdin (repeatable)', collect, [] as string[])
    .option('-R, --recursive', 'with a directory: also read its subdirectories')
    .option('--dry-run [mode]', 'server: the server checks and stores nothing; client (or no value): send no write');
}

/** The object a manifest names, with its namespace settled: the manifest's, else -n's / the config's. */
export interface Target {
  item: ManifestItem;
  info: KindInfo;
  name: string;
  namespace: string | undefined;
  /** Kubernetes JSON of the manifest, namespace filled in. */
  manifest: JsonObject;
}

/** Checks a decoded document's name and namespace; reports and returns undefined when it cannot be sent. */
export function targetOf(s: Session, item: ManifestItem, verb: string): Target | undefined {
  if (!item.decoded) {
    report(new Error(`error validating ${where(item)}: ${item.error ?? 'cannot decode'}`));
    return undefined;
  }
  const { info, object } = item.decoded;
  const manifest = encodeObject(object) as JsonObject;
  const meta = (manifest.metadata ?? {}) as JsonObject;
  manifest.metadata = meta;
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (!name) {
    report(new Error(`error when ${verb} ${where(item)}: metadata.name: Required value: ${info.kind} needs a name`));
    return undefined;
  }
  let namespace: string | undefined;
  if (info.namespaced) {
    const own = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : undefined;
    if (own && s.explicitNamespace && own !== s.namespace) {
      report(
        new Error(
          `the namespace from the provided object "${own}" does not match the namespace "${s.namespace}". You must pass '--namespace=${own}' to perform this operation (${where(item)})`,
        ),
      );
      return undefined;
    }
    namespace = own ?? s.namespace;
    meta.namespace = namespace;
  } else delete meta.namespace;
  return { item, info, name, namespace, manifest };
}

type Outcome = 'created' | 'configured' | 'unchanged';

/** Re-reads after losing a create race, up to this many times. */
const MAX_CONFLICT_RETRIES = 5;

async function applyOne(s: Session, t: Target, dryRun: DryRun): Promise<Outcome> {
  const write = { dryRun: dryRun === 'server' };
  const modified = withLastApplied(t.manifest);
  for (let attempt = 0; ; attempt++) {
    let current: KubeObject | undefined;
    try {
      current = await s.client.get(t.info.resource, t.namespace, t.name);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    if (!current) {
      try {
        if (dryRun !== 'client') await s.client.create(decodeObject(modified).object, { ...write, resource: t.info.resource, namespace: t.namespace });
        return 'created';
      } catch (e) {
        // Someone created it between our read and our create: patch it instead.
        if (isApiError(e, 'AlreadyExists') && attempt < MAX_CONFLICT_RETRIES) continue;
        throw e;
      }
    }
    const live = encodeObject(current) as JsonObject;
    const original = lastApplied(live);
    if (!original && attempt === 0) {
      err(
        `Warning: resource ${qualifiedResource(t.info)}/${t.name} is missing the ${LAST_APPLIED_ANNOTATION} annotation which is required by navctl apply. navctl apply should only be used on resources created declaratively by either navctl create --save-config or navctl apply. The missing annotation will be patched automatically.\n`,
      );
    }
    const { patch } = threeWayPatch(t.info.messageName, original, modified, live);
    if (Object.keys(patch).length === 0) return 'unchanged';
    if (dryRun === 'client') return 'configured';
    // As kubectl: a strategic merge patch, which the server merges into whatever the object is now
    // (maps key by key, keyed lists item by item), so it needs no resourceVersion precondition.
    await s.client.patch(t.info.resource, t.namespace, t.name, 'strategic', patch, write);
    return 'configured';
  }
}

export async function applyManifests(s: Session, flags: ManifestFlags): Promise<void> {
  const dryRun = parseDryRun(flags.dryRun);
  const items = readManifests(flags.filename, flags.recursive ?? false, processIo);
  for (const item of items) {
    const t = targetOf(s, item, 'applying');
    if (!t) continue;
    try {
      const outcome = await applyOne(s, t, dryRun);
      out(`${kindPrefix(t.info)}/${t.name} ${outcome}${dryRunSuffix(dryRun)}\n`);
    } catch (e) {
      report(e, `error when applying ${where(item)}: `);
    }
  }
  if (items.length === 0) report(new Error('no objects passed to apply'));
}

export function registerApply(program: Command): void {
  addManifestOptions(
    program
      .command('apply')
      .description('create or update objects from manifests (files, directories, stdin); a three-way merge keeps fields others set'),
  ).action((flags: ManifestFlags) => withSession(program, (s) => applyManifests(s, flags)));
}
