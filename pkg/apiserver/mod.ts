// pkg/apiserver's public surface: the transport-free API core. Import from here.
// The gRPC adapter is its own entry (grpc_adapter.ts), so the core never loads a transport.

export { ApiServer, type RequestRecord, type Verb } from './api_server.js';
export type { ApiServerOptions, ResourceRef, ObjectRef } from './context.js';
export { DEFAULT_MAX_OBJECT_BYTES, resolve as resolveResourceRef } from './context.js';
export type { Backend, BackendWatch, ReadOptions, StoreBackendOptions } from './backend.js';
export { RaftBackend, type RaftBackendOptions } from './raft_backend.js';
export { StoreBackend, fromStoreError } from './backend.js';
export {
  ApiError,
  API_ERROR_CODES,
  ERROR_CODES,
  isApiError,
  toApiError,
  type ApiErrorCode,
  type ApiErrorCodeInfo,
  type ApiErrorDetails,
} from './api_error.js';
export type { CreateRequest } from './create.js';
export type { BindRequest } from './bind.js';
export type { GetRequest } from './get.js';
export type { ListRequest, ListResult } from './list.js';
export type { UpdateRequest, Subresource } from './update.js';
export { PATCH_CONTENT_TYPES, type PatchRequest, type PatchType } from './patch.js';
export { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, type DeleteRequest, type DeleteResult, type PropagationPolicy } from './delete.js';
export type { ApiWatch, WatchEvent, WatchEventType, WatchRequest } from './watch.js';
export { objectKey, resourcePrefix, REGISTRY_PREFIX } from './objects.js';
export { FENCING_PREFIX, fencingKey, type FencingToken } from './fencing.js';
