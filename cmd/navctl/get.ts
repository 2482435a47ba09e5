// `navctl get`: one kind or several ("pods,services", "all", "pod/web svc/web"), by name or by
// list with label and field selectors, as tables with kubectl's columns or as yaml / json / name;
// -w prints the table, then a row for every change until interrupted.

import type { Command } from 'commander';
import { KINDS, type KindInfo, type KubeObject } from '../../pkg/api/registry.js';
import { columnsFor, formatLabels, tableHeaders, tableRow, type Column } from './print/columns.js';
import { Table } from './print/table.js';
import { formatList, formatObject } from './print/yaml.js';
import { err, kindPrefix, namespaceFor, out, report, resolveKind, withSession, type Session } from './session.js';

export type GetOutput = 'table' | 'wide' | 'yaml' | 'json' | 'name';

export interface GetFlags {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  watch?: boolean;
  watchOnly?: boolean;
  showLabels?: boolean;
  headers?: boolean;
}

/** One kind to fetch, with the names asked for (none: list). */
export interface GetRequest {
  info: KindInfo;
  names: string[];
}

/** Parses `get` arguments: "pods", "pods,svc", "all", "pod web db", "pod/web svc/db". */
export function parseGetArgs(args: readonly string[]): GetRequest[] {
  if (args.length === 0) throw new Error('You must specify the type of resource to get. Use "navctl api-resources" for a complete list of supported resources (or: pods, deployments, services, nodes, namespaces, configmaps, ...)');
  if (args.every((a) => a.includes('/'))) {
    const out: GetRequest[] = [];
    for (const a of args) {
      const [type, name, ...rest] = a.split('/');
      if (!type || !name || rest.length) throw new Error(`arguments in resource/name form must have a single resource and name, got "${a}"`);
      const info = resolveKind(type);
      const r = out.find((x) => x.info === info);
      if (r) r.names.push(name);
      else out.push({ info, names: [name] });
    }
    return out;
  }
  if (args.slice(1).some((a) => a.includes('/'))) throw new Error('there is no need to specify a resource type as a separate argument when passing arguments in resource/name form');
  const [types, ...names] = args;
  const kinds: KindInfo[] = [];
  for (const t of types.split(',').filter((x) => x)) {
    const list = t.toLowerCase() === 'all' ? KINDS.filter((k) => k.categories.includes('all')) : [resolveKind(t)];
    for (const k of list) if (!kinds.includes(k)) kinds.push(k);
  }
  if (names.length && kinds.length > 1) throw new Error(`you may only specify a single resource type when naming objects, got "${types}"`);
  return kinds.map((info) => ({ info, names }));
}

/** The names a command acts on: those given, else every object -l or --all selects (kubectl's rule for label, scale, set image). */
export async function namesOrSelected(s: Session, r: GetRequest, f: { selector?: string; all?: boolean }): Promise<string[]> {
  if (r.names.length > 0) return r.names;
  if (!f.selector && !f.all) throw new Error('resource(s) were provided, but no name was specified: give names, -l selector or --all');
  const list = await s.client.listAll(r.info.resource, { namespace: namespaceFor(r.info, s.namespace) ?? '', labelSelector: f.selector });
  return list.items.map((o) => o.metadata?.name ?? '');
}

export function parseOutput(o: string | undefined): GetOutput {
  const v = o ?? 'table';
  if (v === 'table' || v === 'wide' || v === 'yaml' || v === 'json' || v === 'name') return v;
  throw new Error(`Invalid -o "${v}": expected one of wide, yaml, json, name`);
}

interface Fetched {
  info: KindInfo;
  objects: KubeObject[];
  /** From a list (not names): where a watch continues. */
  resourceVersion?: string;
}

async function fetch(s: Session, r: GetRequest, flags: GetFlags): Promise<Fetched> {
  const ns = flags.allNamespaces ? undefined : namespaceFor(r.info, s.namespace);
  if (r.names.length === 0) {
    const page = await s.client.listAll(r.info.resource, { namespace: ns ?? '', labelSelector: flags.selector, fieldSelector: flags.fieldSelector });
    return { info: r.info, objects: page.items, resourceVersion: page.resourceVersion };
  }
  const objects: KubeObject[] = [];
  for (const name of r.names) {
    try {
      objects.push(await s.client.get(r.info.resource, ns, name));
    } catch (e) {
      report(e);
    }
  }
  return { info: r.info, objects };
}

function tableColumns(info: KindInfo, flags: GetFlags, output: GetOutput): Column[] {
  const cols = columnsFor(info.kind, { wide: output === 'wide' });
  return flags.showLabels ? [...cols, { header: 'LABELS', cell: (o) => formatLabels(o.metadata?.labels) }] : cols;
}

function noneFound(s: Session, flags: GetFlags, kinds: readonly KindInfo[]): string {
  if (flags.allNamespaces || kinds.every((k) => !k.namespaced)) return 'No resources found\n';
  return `No resources found in ${s.namespace} namespace.\n`;
}

function printTables(results: readonly Fetched[], flags: GetFlags, output: GetOutput, nowMs: number): void {
  const shown = results.filter((r) => r.objects.length > 0);
  const several = results.length > 1;
  shown.forEach((r, i) => {
    const cols = tableColumns(r.info, flags, output);
    const o = { withNamespace: flags.allNamespaces && r.info.namespaced, namePrefix: several ? `${kindPrefix(r.info)}/` : undefined };
    const table = new Table(tableHeaders(cols, o));
    const rows = r.objects.map((x) => tableRow(x, cols, nowMs, o));
    table.fit(rows);
    if (i > 0) out('\n');
    out((flags.headers === false ? '' : table.header()) + rows.map((x) => table.line(x)).join(''));
  });
}

function printObjects(results: readonly Fetched[], output: GetOutput, single: boolean): void {
  const all = results.flatMap((r) => r.objects);
  if (output === 'name') {
    for (const r of results) for (const o of r.objects) out(`${kindPrefix(r.info)}/${o.metadata?.name ?? ''}\n`);
    return;
  }
  const format = output === 'json' ? 'json' : 'yaml';
  if (single && all.length === 1) out(formatObject(all[0], format));
  else if (all.length > 0 || !single) out(formatList(all, format));
}

async function watchChanges(s: Session, r: Fetched, req: GetRequest, flags: GetFlags, output: GetOutput, table: Table | undefined): Promise<void> {
  const ns = flags.allNamespaces ? undefined : namespaceFor(r.info, s.namespace);
  const nameSelector = req.names.length === 1 ? `metadata.name=${req.names[0]}` : undefined;
  const fieldSelector = [flags.fieldSelector, nameSelector].filter((x) => x).join(',') || undefined;
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const cols = tableColumns(r.info, flags, output);
  const rowOptions = { withNamespace: flags.allNamespaces && r.info.namespaced };
  let printedHeader = table !== undefined;
  try {
    const watch = s.client.watch(r.info.resource, { namespace: ns ?? '', labelSelector: flags.selector, fieldSelector, resourceVersion: r.resourceVersion, signal: abort.signal });
    for await (const ev of watch) {
      if (ev.type === 'BOOKMARK') continue;
      if (req.names.length > 1 && !req.names.includes(ev.object.metadata?.name ?? '')) continue;
      if (output === 'table' || output === 'wide') {
        const row = tableRow(ev.object, cols, Date.now(), rowOptions);
        const t = table ?? new Table(tableHeaders(cols, rowOptions));
        table = t.fit([row]);
        if (!printedHeader && flags.headers !== false) out(t.header());
        printedHeader = true;
        out(t.line(row));
      } else if (output === 'name') out(`${kindPrefix(r.info)}/${ev.object.metadata?.name ?? ''}\n`);
      else out(output === 'json' ? formatObject(ev.object, 'json') : `---\n${formatObject(ev.object, 'yaml')}`);
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export async function get(s: Session, args: readonly string[], flags: GetFlags): Promise<void> {
  const output = parseOutput(flags.output);
  const requests = parseGetArgs(args);
  const watching = flags.watch || flags.watchOnly;
  if (watching && requests.length > 1) throw new Error('you may only specify a single resource type with --watch');
  // Objects read by name carry no list revision: take the store's revision first, so that a watch
  // shows every change after it (a change racing the reads may show twice, never not at all).
  const named = requests.some((r) => r.names.length > 0);
  const namedFrom = watching && named ? (await s.client.list(requests[0].info.resource, { namespace: '', limit: 1 })).resourceVersion : undefined;
  const results: Fetched[] = [];
  for (const r of requests) results.push(await fetch(s, r, flags));
  if (!flags.watchOnly) {
    if (output === 'table' || output === 'wide') {
      printTables(results, flags, output, Date.now());
      if (!named && results.every((r) => r.objects.length === 0)) err(noneFound(s, flags, requests.map((r) => r.info)));
    } else printObjects(results, output, named && requests.length === 1 && requests[0].names.length === 1);
  }
  if (!watching) return;
  let table: Table | undefined;
  if (!flags.watchOnly && (output === 'table' || output === 'wide') && results[0].objects.length > 0) {
    const cols = tableColumns(results[0].info, flags, output);
    const o = { withNamespace: flags.allNamespaces && results[0].info.namespaced };
    table = new Table(tableHeaders(cols, o)).fit(results[0].objects.map((x) => tableRow(x, cols, Date.now(), o)));
  }
  const from = named ? { ...results[0], resourceVersion: namedFrom } : results[0];
  await watchChanges(s, from, requests[0], flags, output, table);
}

export function registerGet(program: Command): void {
  program
    .command('get')
    .description('show objects: get RESOURCE[,RESOURCE...] [NAME...], get all, get TYPE/NAME ...')
    .argument('[resource...]', 'resource type(s), then names; or TYPE/NAME pairs')
    .option('-o, --output <format>', 'wide, yaml, json or name')
    .option('-l, --selector <selector>', 'label selector: app=web,tier!=db,env in (a,b),!legacy')
    .option('--field-selector <selector>', 'field selector: metadata.name=x,status.phase=Running,spec.nodeName=n1')
    .option('-A, --all-namespaces', 'every namespace (adds a NAMESPACE column)')
    .option('-w, --watch', 'after the listing, print a row for every change')
    .option('--watch-only', 'print only the changes, not the listing')
    .option('--show-labels', 'add a LABELS column')
    .option('--no-headers', 'omit the header row')
    .action((args: string[], flags: GetFlags) => withSession(program, (s) => get(s, args, flags)));
}
