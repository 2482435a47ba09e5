// `navarch images` (make images): builds the busybox image from this machine's busybox-static as an
// OCI layout and archive under D/images, and pushes it to the local registry, starting Debian's
// docker-registry (data in D/registry, left running) when nothing answers at the address.

import { Command } from 'commander';
import { join } from 'node:path';
import { buildBusyboxImage, writeOciArchive } from '../pkg/oci/mod.js';
import { RegistryClient } from '../pkg/registry/client.js';
import { DEFAULT_REGISTRY_ADDRESS, ensureLocalRegistry } from '../pkg/registry/local_registry.js';
import { parseReference } from '../pkg/registry/reference.js';

export interface ImagesFlags {
  dir: string;
  registry: string;
  /** Push as this reference instead of <registry>/navarch/busybox:latest. */
  ref?: string;
  /** Only build the layout and archive. */
  push: boolean;
}

type Out = (line: string) => void;

export async function runImages(flags: ImagesFlags, out: Out = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const ref = parseReference(flags.ref ?? `${flags.registry}/navarch/busybox:latest`);
  const layoutDir = join(flags.dir, 'images', 'busybox');
  const archive = join(flags.dir, 'images', 'busybox.oci.tar');
  const image = await buildBusyboxImage(layoutDir, { ref: ref.full });
  await writeOciArchive(layoutDir, archive);
  out(`built ${ref.full} from /bin/busybox: manifest ${image.manifestDigest}, config ${image.configDigest}`);
  out(`  OCI layout ${layoutDir}, archive ${archive} (ctr images import reads it)`);
  if (!flags.push) return;
  if (ref.registry === flags.registry) {
    const registry = await ensureLocalRegistry({ dataDir: join(flags.dir, 'registry'), address: flags.registry });
    out(registry.reused ? `registry at ${registry.url} already running: using it` : `started docker-registry at ${registry.url} (pid ${registry.pid}, data ${join(flags.dir, 'registry')}); it keeps running`);
  }
  const pushed = await new RegistryClient().pushLayout(layoutDir, ref);
  out(`pushed ${ref.full} (${pushed.digest}): ${pushed.pushedBlobs} blob(s) uploaded, ${pushed.skippedBlobs} already there`);
}

export function imagesCommand(): Command {
  return new Command('images')
    .description('build the busybox image from busybox-static and push it to the local registry (started if none answers)')
    .option('--dir <dir>', 'where the image layout and the registry data go', '.navarch')
    .option('--registry <host:port>', 'the local registry', DEFAULT_REGISTRY_ADDRESS)
    .option('--ref <ref>', 'push as this reference (default <registry>/navarch/busybox:latest)')
    .option('--no-push', 'only build the OCI layout and archive')
    .action((flags: ImagesFlags) => runImages(flags));
}
