// The OCI runtime spec for one container, with the defaults containerd's own client applies
// (capabilities, standard mounts, masked and read-only paths) and the pod's settings on top.

import type { ContainerConfig, ImageInfo } from '../runtime.js';

export const SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';
export const PROCESS_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Process';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** containerd's default capability set (oci.populateDefaultUnixSpec). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];
const MASKED_PATHS = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
/** Kubernetes' CFS period, and its floor for quota and shares. */
const CFS_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1000;
const MIN_SHARES = 2;

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: Record<'bounding' | 'effective' | 'permitted', string[]>;
  rlimits: { type: string; hard: number; soft: number }[];
  noNewPrivileges: boolean;
}

function standardMounts(): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  ];
}

/** Image env first, then the container's: a later entry for the same name wins, as in Kubernetes. */
export function mergeEnv(imageEnv: readonly string[], env: readonly { name: string; value: string }[]): string[] {
  const order: string[] = [];
  const values = new Map<string, string>();
  const put = (name: string, entry: string) => {
    if (!values.has(name)) order.push(name);
    values.set(name, entry);
  };
  for (const e of imageEnv) put(e.split('=')[0]!, e);
  for (const e of env) put(e.name, `${e.name}=${e.value}`);
  if (!values.has('PATH')) put('PATH', DEFAULT_PATH);
  return order.map((n) => values.get(n)!);
}

/** The image's "User" when it is numeric ("1000" or "1000:1000"); names need the image's passwd. */
function imageUser(user: string): { uid: number; gid: number } | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  return m ? { uid: Number(m[1]), gid: Number(m[2] ?? 0) } : undefined;
}

export function buildProcess(argv: string[], env: string[], cwd: string, user: { uid: number; gid: number }, terminal: boolean): OciProcess {
  return {
    terminal,
    user: { uid: user.uid, gid: user.gid },
    args: argv,
    env,
    cwd,
    capabilities: { bounding: DEFAULT_CAPABILITIES, effective: DEFAULT_CAPABILITIES, permitted: DEFAULT_CAPABILITIES },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  };
}

export function checkConfig(c: ContainerConfig): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/.test(c.id)) throw new TypeError(`Invalid container config: id "${c.id}" must be 1-76 letters, digits, '.', '_' or '-'`);
  if (c.argv.length === 0) throw new TypeError(`Invalid container config ${c.id}: argv is empty`);
  if (c.workingDir !== undefined && c.workingDir !== '' && !c.workingDir.startsWith('/')) throw new TypeError(`Invalid container config ${c.id}: workingDir "${c.workingDir}" is not absolute`);
  c.mounts.forEach((m, i) => {
    if (!m.containerPath.startsWith('/')) throw new TypeError(`Invalid container config ${c.id}: mounts[${i}].containerPath "${m.containerPath}" is not absolute`);
    if (!m.hostPath.startsWith('/')) throw new TypeError(`Invalid container config ${c.id}: mounts[${i}].hostPath "${m.hostPath}" is not absolute`);
  });
  if (!c.netnsPath.startsWith('/')) throw new TypeError(`Invalid container config ${c.id}: netnsPath "${c.netnsPath}" is not absolute`);
  if (!c.logPath.startsWith('/')) throw new TypeError(`Invalid container config ${c.id}: logPath "${c.logPath}" is not absolute`);
}

export function buildResources(r: ContainerConfig['resources']) {
  const cpu: { shares?: number; quota?: number; period?: number } = {};
  if (r.cpuRequestMillis !== undefined) cpu.shares = Math.max(MIN_SHARES, Math.floor((r.cpuRequestMillis * 1024) / 1000));
  if (r.cpuLimitMillis !== undefined) {
    cpu.quota = Math.max(MIN_QUOTA_US, Math.floor((r.cpuLimitMillis * CFS_PERIOD_US) / 1000));
    cpu.period = CFS_PERIOD_US;
  }
  return {
    devices: [{ allow: false, access: 'rwm' }],
    ...(Object.keys(cpu).length ? { cpu } : {}),
    ...(r.memoryLimitBytes !== undefined ? { memory: { limit: r.memoryLimitBytes } } : {}),
  };
}

/**
 * The full runtime spec; the root is the snapshot containerd mounts at `rootfs` in the bundle.
 * `hostnamePath`: a file holding the hostname, bound at /etc/hostname as Kubernetes' runtimes do
 * (unless the pod mounts something there itself).
 */
export function buildSpec(c: ContainerConfig, image: ImageInfo, cgroupsPath: string, files: { hostnamePath?: string } = {}): object {
  const fromImage = imageUser(image.config.user) ?? { uid: 0, gid: 0 };
  const user = { uid: c.runAsUser ?? fromImage.uid, gid: c.runAsGroup ?? (c.runAsUser !== undefined ? 0 : fromImage.gid) };
  const cwd = c.workingDir || image.config.workingDir || '/';
  const binds: OciMount[] = c.mounts.map((m) => ({ destination: m.containerPath, type: 'bind', source: m.hostPath, options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw'] }));
  if (files.hostnamePath && !c.mounts.some((m) => m.containerPath === '/etc/hostname')) binds.unshift({ destination: '/etc/hostname', type: 'bind', source: files.hostnamePath, options: ['rbind', 'rprivate', 'ro'] });
  return {
    ociVersion: '1.0.2-dev',
    process: buildProcess(c.argv, mergeEnv(image.config.env, c.env), cwd, user, false),
    root: { path: 'rootfs' },
    hostname: c.hostname,
    mounts: [...standardMounts(), ...binds],
    linux: {
      resources: buildResources(c.resources),
      cgroupsPath,
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: c.netnsPath }],
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}
