// Where navctl finds the masters. The first source that is set wins: --server, $NAVCTL_SERVER,
// --config, $NAVCTL_CONFIG, ./.navarch/navctl.yaml, ~/.navarch/navctl.yaml (the file `navarch up`
// writes). The namespace comes from the config file that named the endpoints, else "default".

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const CONFIG_API_VERSION = 'navctl.navarch.io/v1';
export const CONFIG_KIND = 'Config';

export interface NavctlConfig {
  cluster?: string;
  endpoints: string[];
  namespace?: string;
}

export interface ResolvedConfig {
  endpoints: string[];
  /** The namespace commands use without -n. */
  namespace: string;
  /** Where the endpoints came from: "--server", "NAVCTL_SERVER" or a config file path. */
  source: string;
}

export interface ResolveInput {
  server?: string;
  config?: string;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  home: string;
  /** The file's text, or undefined when it does not exist. */
  readFile: (path: string) => string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "127.0.0.1:2379,127.0.0.1:2380" → endpoints, each checked as host:port. */
export function parseServerList(what: string, text: string): string[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new ConfigError(`Invalid ${what} "${text}": expected host:port[,host:port...]`);
  for (const p of parts) checkEndpoint(what, p);
  return parts;
}

function checkEndpoint(what: string, e: string): void {
  const i = e.lastIndexOf(':');
  const port = Number(e.slice(i + 1));
  if (i <= 0 || !/^\d+$/.test(e.slice(i + 1)) || port <= 0 || port > 65535) {
    throw new ConfigError(`Invalid ${what}: "${e}" is not host:port`);
  }
}

/** Parses and checks a navctl config file's text; errors name the file and the field. */
export function parseConfig(path: string, text: string): NavctlConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ConfigError(`Cannot parse navctl config ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`Invalid navctl config ${path}: expected a YAML mapping`);
  const o = doc as Record<string, unknown>;
  if (o.apiVersion !== CONFIG_API_VERSION) {
    throw new ConfigError(`Invalid navctl config ${path}: apiVersion: expected "${CONFIG_API_VERSION}", got ${JSON.stringify(o.apiVersion ?? null)}`);
  }
  if (o.kind !== CONFIG_KIND) throw new ConfigError(`Invalid navctl config ${path}: kind: expected "${CONFIG_KIND}", got ${JSON.stringify(o.kind ?? null)}`);
  if (!Array.isArray(o.endpoints) || o.endpoints.length === 0) {
    throw new ConfigError(`Invalid navctl config ${path}: endpoints: expected a non-empty list of host:port`);
  }
  const endpoints = o.endpoints.map((e, i) => {
    if (typeof e !== 'string') throw new ConfigError(`Invalid navctl config ${path}: endpoints[${i}]: expected a host:port string, got ${JSON.stringify(e)}`);
    checkEndpoint(`navctl config ${path}: endpoints[${i}]`, e);
    return e;
  });
  for (const field of ['namespace', 'cluster'] as const) {
    if (o[field] !== undefined && (typeof o[field] !== 'string' || o[field] === '')) {
      throw new ConfigError(`Invalid navctl config ${path}: ${field}: expected a non-empty string, got ${JSON.stringify(o[field])}`);
    }
  }
  return { endpoints, namespace: o.namespace as string | undefined, cluster: o.cluster as string | undefined };
}

export function resolveConfig(input: ResolveInput): ResolvedConfig {
  if (input.server !== undefined) return { endpoints: parseServerList('--server', input.server), namespace: 'default', source: '--server' };
  const envServer = input.env.NAVCTL_SERVER;
  if (envServer) return { endpoints: parseServerList('NAVCTL_SERVER', envServer), namespace: 'default', source: 'NAVCTL_SERVER' };
  const explicit: Array<[string, string | undefined]> = [
    ['--config', input.config],
    ['NAVCTL_CONFIG', input.env.NAVCTL_CONFIG || undefined],
  ];
  for (const [what, p] of explicit) {
    if (p === undefined) continue;
    const path = resolve(input.cwd, p);
    const text = input.readFile(path);
    if (text === undefined) throw new ConfigError(`Cannot read navctl config ${path} (from ${what}): no such file`);
    return fromFile(path, text);
  }
  for (const path of [join(input.cwd, '.navarch', 'navctl.yaml'), join(input.home, '.navarch', 'navctl.yaml')]) {
    const text = input.readFile(path);
    if (text !== undefined) return fromFile(path, text);
  }
  throw new ConfigError(
    'No masters to talk to: start a local cluster with "make up" (it writes .navarch/navctl.yaml), or pass --server host:port[,host:port...] or --config FILE',
  );
}

function fromFile(path: string, text: string): ResolvedConfig {
  const c = parseConfig(path, text);
  return { endpoints: c.endpoints, namespace: c.namespace ?? 'default', source: path };
}

/** resolveConfig with the process's environment, working directory, home and file system. */
export function resolveFromProcess(flags: { server?: string; config?: string }): ResolvedConfig {
  return resolveConfig({
    ...flags,
    env: process.env,
    cwd: process.cwd(),
    home: homedir(),
    readFile: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new ConfigError(`Cannot read navctl config ${p}: ${(e as Error).message}`);
      }
    },
  });
}
