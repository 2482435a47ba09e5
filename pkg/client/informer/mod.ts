export { SharedInformer, type HandlerRegistration, type ResourceEventHandler, type SharedInformerOptions } from './shared_informer.js';
export { Reflector, type ReflectorLogger, type ReflectorOptions, type ReflectorSink, type ReflectorStats } from './reflector.js';
export { Indexer, NAMESPACE_INDEX, byNamespace, type IndexFunc, type ReadonlyIndexer, type ReplaceDiff } from './indexer.js';
export { clientListWatcher, type ClientListWatcherOptions, type ListWatchResult, type ListWatcher, type WatchFromOptions, type WatchStream } from './list_watcher.js';
export { namespacedKey, objectKey, splitKey } from './keys.js';
export { InformerFactory, type InformerFactoryOptions } from './informer_factory.js';
