// This machine's platform in OCI terms (GOARCH names), for image configs and manifest-list selection.

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCHES: Record<string, Platform> = {
  x64: { os: 'linux', architecture: 'amd64' },
  arm64: { os: 'linux', architecture: 'arm64' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
  ia32: { os: 'linux', architecture: '386' },
  ppc64: { os: 'linux', architecture: 'ppc64le' },
  s390x: { os: 'linux', architecture: 's390x' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
};

/** The platform of this process's machine, e.g. { os: 'linux', architecture: 'amd64' }. */
export function hostPlatform(nodeArch: string = process.arch): Platform {
  const p = ARCHES[nodeArch];
  if (!p) throw new Error(`Cannot name this machine's OCI platform: unknown Node.js architecture "${nodeArch}"`);
  return { ...p };
}
