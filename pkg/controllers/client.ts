// What controllers (and the scheduler) write through: the subset of NavarchClient they use. The
// controller manager hands them a NavarchClient (fenced by its lease, see pkg/client/leaderelection);
// fixture tests hand them a RecordingClient over an in-process API server.

import type { KubeObject } from '../api/registry.js';
import type { PatchType } from '../apiserver/patch.js';
import type { DeleteOptions, ListOptions, ListPage, UpdateOptions, WriteOptions } from '../client/client.js';

export interface ObjectClient {
  get<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, o?: { resourceVersion?: string; serializable?: boolean }): Promise<T>;
  list<T extends KubeObject = KubeObject>(resource: string, o?: ListOptions): Promise<ListPage<T>>;
  create<T extends KubeObject>(object: T, o?: WriteOptions & { resource?: string; namespace?: string }): Promise<T>;
  update<T extends KubeObject, R = T>(object: T, o?: UpdateOptions<R> & { subresource?: 'status' }): Promise<R>;
  updateStatus<T extends KubeObject, R = T>(object: T, o?: Omit<UpdateOptions<R>, 'subresource'>): Promise<R>;
  patch<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, type: PatchType, patch: unknown, o?: WriteOptions & { subresource?: string }): Promise<T>;
  delete<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, o?: DeleteOptions): Promise<{ object: T; deleted: boolean }>;
}
