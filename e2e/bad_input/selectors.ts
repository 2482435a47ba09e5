// Label and field selectors that do not parse, or name a field the kind cannot be selected by, for
// list and watch: Invalid, quoting the selector.

import type { SeededRandom } from '../../raft/core/random.js';
import { Code, type BadCase, type Fixture, pick, token } from './bad_case.js';
import { pathOf, req } from './objects_requests.js';

// ("a!=", "a==" and "metadata.name==" are valid: they compare with the empty string.)
const BAD_LABEL_SELECTORS = ['a in (b', 'a in b)', '!!', 'a=b,', ',a', 'a notin', 'a in ()', 'a b', 'a=b=c', '=x', 'key!', 'a=(b)', '-bad=1', 'x in (y) z'];
const BAD_FIELD_SELECTORS = ['spec.foo=bar', 'metadata.labels=x', 'status.nope=1', 'spec.containers=x', 'a=b', 'metadata.name', 'metadata.name=a,=b'];

function labelSelector(r: SeededRandom): string {
  const base = pick(r, BAD_LABEL_SELECTORS);
  // Also mix a valid requirement in front, so the parser must get past it.
  return r.intn(2) === 0 ? base : `app=${token(r, 4)},${base}`;
}

export function badSelector(r: SeededRandom, f: Fixture): BadCase {
  const resource = pick(r, ['pods', 'configmaps', 'deployments', 'services']);
  const watch = r.intn(3) === 0;
  const field = r.intn(3) === 0;
  let selector: string;
  let message: string;
  if (field) {
    const label = `${pick(r, ['spec.', 'status.', 'metadata.x', ''])}${token(r, 5)}`;
    selector = r.intn(2) === 0 ? pick(r, BAD_FIELD_SELECTORS) : `${label}=${token(r, 3)}`;
    message = `field selector "${selector}"`;
  } else {
    selector = labelSelector(r);
    message = `label selector "${selector}"`;
  }
  const q = { resource, namespace: f.namespace, labelSelector: field ? '' : selector, fieldSelector: field ? selector : '' };
  return watch
    ? { category: `objects/bad ${field ? 'field' : 'label'} selector`, path: pathOf('watch'), body: req.watch(q), stream: true, codes: [Code.INVALID_ARGUMENT], message }
    : { category: `objects/bad ${field ? 'field' : 'label'} selector`, path: pathOf('list'), body: req.list(q), codes: [Code.INVALID_ARGUMENT], message };
}
