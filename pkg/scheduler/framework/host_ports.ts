// The host ports pods take on their node (containers' ports with a hostPort), and the conflicts
// between them, as Kubernetes' HostPortInfo: the same protocol and port conflict when either side
// binds every address (0.0.0.0, the default) or both bind the same one.

import type { Pod } from "../../api/registry.js";

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

const ANY_IP = "0.0.0.0";

/** The pod's host ports (its containers' ports with hostPort > 0), hostIP and protocol defaulted. */
export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ ip: p.hostIP || ANY_IP, protocol: p.protocol || "TCP", port: p.hostPort });
    }
  }
  return out;
}

/** Host ports in use on a node: per protocol and port, how many pods hold each address. */
export class UsedPorts {
  private readonly byPort = new Map<string, Map<string, number>>();

  add(ports: readonly HostPort[], sign: 1 | -1): void {
    for (const p of ports) {
      const k = `${p.protocol}/${p.port}`;
      let ips = this.byPort.get(k);
      if (ips === undefined) this.byPort.set(k, (ips = new Map()));
      const n = (ips.get(p.ip) ?? 0) + sign;
      if (n > 0) ips.set(p.ip, n);
      else ips.delete(p.ip);
      if (ips.size === 0) this.byPort.delete(k);
    }
  }

  conflicts(p: HostPort): boolean {
    const ips = this.byPort.get(`${p.protocol}/${p.port}`);
    if (ips === undefined) return false;
    if (p.ip === ANY_IP) return true;
    return ips.has(p.ip) || ips.has(ANY_IP);
  }

  get isEmpty(): boolean {
    return this.byPort.size === 0;
  }

  clone(): UsedPorts {
    const c = new UsedPorts();
    for (const [k, ips] of this.byPort) c.byPort.set(k, new Map(ips));
    return c;
  }
}
