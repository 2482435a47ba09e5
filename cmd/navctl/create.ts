// `navctl create -f FILE` (create only; AlreadyExists is an error, as kubectl) and
// `navctl create namespace NAME`.

import type { Command } from 'commander';
import { decodeObject } from '../../pkg/api/convert/object.js';
import { kindByName } from '../../pkg/api/registry.js';
import { addManifestOptions, targetOf, type ManifestFlags } from './apply.js';
import { withLastApplied } from './apply_patch.js';
import { processIo, readManifests, where } from './manifests.js';
import { dryRunSuffix, kindPrefix, out, parseDryRun, report, withSession, type Session } from './session.js';

async function createManifests(s: Session, flags: ManifestFlags & { saveConfig?: boolean }): Promise<void> {
  const dryRun = parseDryRun(flags.dryRun);
  const items = readManifests(flags.filename, flags.recursive ?? false, processIo);
  if (items.length === 0) report(new Error('no objects passed to create'));
  for (const item of items) {
    const t = targetOf(s, item, 'creating');
    if (!t) continue;
    try {
      // --save-config: record the manifest as apply does, so a later apply knows which fields it owns.
      const body = flags.saveConfig ? withLastApplied(t.manifest) : t.manifest;
      const object = decodeObject(body).object;
      if (dryRun !== 'client') await s.client.create(object, { dryRun: dryRun === 'server', resource: t.info.resource, namespace: t.namespace });
      out(`${kindPrefix(t.info)}/${t.name} created${dryRunSuffix(dryRun)}\n`);
    } catch (e) {
      report(e, `error when creating ${where(item)}: `);
    }
  }
}

export function registerCreate(program: Command): void {
  const create = addManifestOptions(program.command('create').description('create objects from manifests, or a namespace by name'))
    .option('--save-config', 'record the manifest in the last-applied annotation, for a later apply')
    .action((flags: ManifestFlags & { saveConfig?: boolean }) => withSession(program, (s) => createManifests(s, flags)));
  create
    .command('namespace <name>')
    .alias('ns')
    .description('create a namespace')
    .action((name: string) =>
      withSession(program, async (s) => {
        const { object } = decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
        await s.client.create(object, { resource: kindByName('Namespace').resource });
        out(`namespace/${name} created\n`);
      }),
    );
}
