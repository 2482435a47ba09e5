// The namespace controller: what the controller manager starts.
export { FINALIZER_NAMESPACE, NamespaceController, type ContentsPass, type NamespaceControllerOptions } from './namespace.js';
export { mergeConditions, namespaceConditions } from './conditions.js';
