// Informers: a local, indexed, always-current copy of a resource, with change handlers.
//
//   const factory = InformerFactory.forClient(client, { clock });
//   const pods = factory.informer<Pod>('pods', { indexers: { byNode: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) } });
//   pods.addEventHandler({ onAdd: (p) => queue.add(objectKey(p)), onUpdate: (o, n) => ..., onDelete: (p) => ... });
//   factory.start();
//   await factory.waitForSync({ timeoutMs: 30_000 });
//   pods.store.byIndex('byNode', 'node-1');
//
// Handlers run synchronously after the store shows the change: enqueue a key and return.

export { SharedInformer, type HandlerRegistration, type InformerRegistration, type ResourceEventHandler, type SharedInformerOptions } from './shared_informer.js';
export { Reflector, type ReflectorLogger, type ReflectorOptions, type ReflectorSink, type ReflectorStats } from './reflector.js';
export { Indexer, NAMESPACE_INDEX, byNamespace, type IndexFunc, type ReadonlyIndexer, type ReplaceDiff } from './indexer.js';
export { clientListWatcher, type ClientListWatcherOptions, type ListWatchResult, type ListWatcher, type WatchFromOptions, type WatchStream } from './list_watcher.js';
export { namespacedKey, objectKey, splitKey } from './keys.js';
export { InformerFactory, type InformerFactoryOptions } from './informer_factory.js';
