// A pod's volumes on the node: emptyDir, hostPath, configMap, secret and downwardAPI.
//
//   const volumes = new VolumeManager({ podsDir, client, clock });
//   const paths = await volumes.setUp(pod);                          // volume name -> host path
//   const mounts = await volumes.mountsFor(pod, container, paths, { env });  // runtime Mount[]
//   await volumes.refresh(pod);                                      // periodically: ConfigMap/Secret changes
//   await volumes.tearDown(pod.metadata.uid);                        // after the pod's containers are gone

export { VolumeManager, VolumeError, type VolumeManagerOptions } from './volume_manager.js';
export { writeAtomically, invalidPayloadPath, type Payload, type FileToWrite } from './atomic_writer.js';
export { checkHostPath, HOST_PATH_TYPES, type HostPathType } from './host_path.js';
export { resolveSubPath, SubPathError } from './subpath.js';
export { mountsUnder } from './mounts.js';
