export { NavarchClient, discardAnswer, type NavarchClientOptions, type ListOptions, type ListPage, type WriteOptions, type UpdateOptions, type DeleteOptions } from './client.js';
export { type ClientWatchEvent, type ClientWatchEventType, type WatchOptions } from './watch.js';
export { checkEndpoints } from './endpoints.js';
export { ApiError, isApiError, type ApiErrorCode } from '../apiserver/api_error.js';
export type { FencingToken } from '../apiserver/fencing.js';
