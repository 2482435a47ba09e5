// pkg/agent/runtime/containerd: the ContainerRuntime over containerd's gRPC API.

export { ContainerdRuntime, type ContainerdRuntimeOptions } from './containerd_runtime.js';
export { ContainerdClient, ContainerdError, DEFAULT_NAMESPACE, isNotFound, type ContainerdClientOptions } from './client.js';
export { DEFAULT_CAPABILITIES } from './spec.js';
