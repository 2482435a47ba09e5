// Label and field selectors of list and watch requests, parsed once per request.

import { parseFieldSelector, type FieldSelector } from '../api/fields.js';
import { parseLabelSelector, type Selector } from '../api/labels.js';
import type { KindInfo, KubeObject } from '../api/registry.js';
import { badRequest } from './api_error.js';

export interface SelectorOptions {
  /** Kubernetes' text form: "app=web,tier in (a,b),!canary". */
  labelSelector?: string;
  /** "metadata.name=web,status.phase!=Running"; the fields a kind supports are listed by pkg/api. */
  fieldSelector?: string;
}

export interface ObjectFilter {
  everything: boolean;
  matches(object: KubeObject): boolean;
}

export function parseSelectors(info: KindInfo, o: SelectorOptions): ObjectFilter {
  let labels: Selector;
  let fields: FieldSelector;
  try {
    labels = parseLabelSelector(o.labelSelector ?? '');
    fields = parseFieldSelector(o.fieldSelector ?? '', info.kind);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  return {
    everything: labels.isEverything() && fields.isEverything(),
    matches: (object) => labels.matches(object.metadata?.labels) && fields.matchesObject(object),
  };
}
