// A container's argv as Kubernetes builds it: command replaces the image's entrypoint (and then the
// image's cmd is dropped), args replace the image's cmd; $(VAR) in command and args is expanded
// against the container's env (../expansion.ts: $$ is a literal $, an unknown VAR stays as written).

import { expandVars } from '../expansion.js';

export interface ImageCommand {
  entrypoint: readonly string[];
  cmd: readonly string[];
}

export function containerArgv(command: readonly string[], args: readonly string[], image: ImageCommand, env: ReadonlyMap<string, string>): string[] {
  const expand = (s: string): string => expandVars(s, (name) => env.get(name));
  const cmd = command.length > 0 ? command.map(expand) : [...image.entrypoint];
  const rest = args.length > 0 ? args.map(expand) : command.length > 0 ? [] : [...image.cmd];
  return [...cmd, ...rest];
}
