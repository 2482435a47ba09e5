// -o yaml / -o json / -o name output: one object as itself, several as a kubectl `List`.

import { stringify } from 'yaml';
import { encodeObject } from '../../../pkg/api/convert/object.js';
import { kindFor, type KubeObject } from '../../../pkg/api/registry.js';

export type OutputFormat = 'yaml' | 'json';

function listOf(objects: readonly KubeObject[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objects.map(encodeObject) };
}

function render(value: unknown, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 4)}\n` : stringify(value, { version: '1.1', lineWidth: 0 });
}

/** One object printed as itself. */
export function formatObject(object: KubeObject, format: OutputFormat): string {
  return render(encodeObject(object), format);
}

/** Several objects (or a listing that may hold one) printed as a List, as kubectl does for `get pods`. */
export function formatList(objects: readonly KubeObject[], format: OutputFormat): string {
  return render(listOf(objects), format);
}

/** "pod/web" or "deployment.apps/web". */
export function resourceName(object: KubeObject): string {
  const info = kindFor(object.apiVersion ?? '', object.kind ?? '');
  const kind = info ? (info.group ? `${info.singular}.${info.group}` : info.singular) : (object.kind ?? '').toLowerCase();
  return `${kind}/${object.metadata?.name ?? ''}`;
}
