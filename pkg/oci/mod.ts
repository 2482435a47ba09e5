// pkg/oci: OCI image layouts, archives and the busybox image built from this machine's files.

export { writeOciArchive } from './archive.js';
export { buildBusyboxImage, DEFAULT_BUSYBOX_REF, type BusyboxImage } from './busybox.js';
export { blobPath, readLayoutIndex, sha256Digest, writeBlob, writeImageLayout, writeLayer, type ImageSpec, type WrittenImage } from './layout.js';
export * from './media_types.js';
export { hostPlatform, type Platform } from './platform.js';
export { tarChunks, tarHeader, type TarEntry } from './tar_writer.js';
export type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './types.js';
