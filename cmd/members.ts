/** Parses "1=127.0.0.1:7001,2=127.0.0.1:7002" into members, naming what is wrong. */
export function parseMembers(flag: string, spec: string): Array<{ id: number; address: string }> {
  const out: Array<{ id: number; address: string }> = [];
  for (const [i, part] of spec.split(',').entries()) {
    const m = /^(\d+)=(.+:\d+)$/.exec(part.trim());
    if (!m || Number(m[1]) <= 0) {
      throw new Error(`${flag}[${i}]: "${part}" is not in the form id=host:port with a positive id`);
    }
    out.push({ id: Number(m[1]), address: m[2] });
  }
  const ids = new Set(out.map((x) => x.id));
  if (ids.size !== out.length) throw new Error(`${flag}: member ids must be unique in "${spec}"`);
  return out;
}
