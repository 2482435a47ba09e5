import { Command } from 'commander';
import { DEFAULT_HOLLOW_CIDR, DEFAULT_HOLLOW_POD_CIDR_V6 } from '../pkg/hollow/address_plan.js';
import { runHollow } from './hollow.js';
import { runAgent } from './agent.js';
import { imagesCommand } from './images.js';
import { runKvMember } from './kv_member.js';
import { runMaster } from './master.js';
import { runControllers } from './controllers.js';
import { runScheduler } from './scheduler.js';
import { runDown } from './up/down.js';
import { runUp } from './up/up.js';

const program = new Command('navarch').description('Navarch: a container orchestrator for your own machines');

program
  .command('kv-member')
  .description('run one Raft member with a RocksDB data dir and the minimal key-value service')
  .requiredOption('--id <id>', 'this member id (positive integer)')
  .requiredOption('--data-dir <dir>', 'data directory')
  .requiredOption('--peers <list>', 'every member: id=host:port,... (Raft peer addresses)')
  .requiredOption('--client-listen <host:port>', 'address of the key-value gRPC service')
  .option('--join', 'join an existing cluster instead of starting a new one')
  .option('--tick-ms <ms>', 'Raft tick length')
  .option('--snapshot-entries <n>', 'snapshot after this many applied entries')
  .action((flags) => runKvMember(flags));

program
  .command('master')
  .description('run one master: Raft member, replicated MVCC store, etcd-compatible gRPC API and /metrics')
  .option('--config <file>', 'YAML file with any of the settings below, by camelCase name (flags win)')
  .option('--name <name>', 'member name shown in member lists')
  .option('--id <id>', 'this member id (positive integer)')
  .option('--data-dir <dir>', 'data directory')
  .option('--peers <list>', 'every member: id=host:port,... (Raft peer addresses)')
  .option('--peer-clients <list>', 'every member: id=host:port,... (etcd-compatible client addresses; needed with more than one member)')
  .option('--listen-client <host:port>', 'address of the etcd-compatible gRPC API')
  .option('--listen-metrics <host:port>', 'address of the HTTP /metrics endpoint')
  .option('--tick-ms <ms>', 'Raft tick length')
  .option('--snapshot-entries <n>', 'snapshot after this many applied entries, or 64 MiB of them (default 50000)')
  .option('--proposal-batch-ms <ms>', 'writes arriving within this long of the last Raft append wait and go in the next one together (default 10; 0: each goes at once)')
  .option('--quota-bytes <n>', 'store space quota')
  .option('--event-ttl-seconds <s>', 'Events are deleted this long after their last change (default 3600, as kube-apiserver\'s --event-ttl)')
  .option('--no-scheduler', 'do not run the scheduler in this master (config: scheduler: false)')
  .option('--no-controllers', 'do not run the controller manager in this master (config: controllers: false)')
  .option('--lease-duration-ms <ms>', 'scheduler and controller manager leases: a holder silent this long is replaced (default 2000)')
  .option('--renew-deadline-ms <ms>', 'a leader that could not renew for this long gives up (default 10000, or the lease duration + 2 retry periods if longer; its writes are fenced meanwhile)')
  .option('--retry-period-ms <ms>', 'how often leases are renewed or tried (default: a quarter of the lease, 500)')
  .option('--node-monitor-grace-period-ms <ms>', 'a node whose Lease stops this long (or its leaseDurationSeconds if longer, up to 5 min) is Unknown and tainted (default 10000)')
  .option('--default-toleration-seconds <s>', 'new pods get not-ready and unreachable NoExecute tolerations of this many seconds, so they are evicted that long after their node is lost (default 20)')
  .option('--cluster-cidr <cidr>', 'node podCIDRs are cut from this range (default 198.18.0.0/16)')
  .option('--node-cidr-mask-size <bits>', 'prefix length of each node podCIDR (default 24)')
  .option('--cold-standby', 'standby scheduler and controllers keep no informers (less CPU and memory; a new leader lists everything first)')
  .option('--standby-on-raft-leader', 'keep the standby informers and scheduler current while this master leads Raft too (by default they are dropped then, as the other masters take the leases first, and rebuilt when it stops leading)')
  .option('--keep-raft-leadership', 'stay Raft leader while this master holds the scheduler and controller manager leases (by default, after 10 s of leading Raft with both, it hands Raft leadership to the most caught-up live member, which then holds neither)')
  .option('--warm-standby', 'the standby scheduler keeps informers but no scheduler cache and queue (less CPU on standby masters; a new leader replays every pod into its cache first)')
  .action((flags, cmd: Command) => {
    // Defaults of --no-x flags must not hide the config file's value.
    for (const k of ['scheduler', 'controllers']) if (cmd.getOptionValueSource(k) === 'default') delete flags[k];
    return runMaster(flags);
  });

const componentCommand = (name: string, description: string): Command =>
  program
    .command(name)
    .description(description)
    .option('--server <endpoints|file>', 'the masters: host:port[,host:port...] or a navctl config file (default: where navctl looks)')
    .option('--name <name>', 'identity prefix in the lease (default: the host name)')
    .option('--metrics-port <port>', 'serve /metrics on 127.0.0.1:<port> (0: any free port)')
    .option('--lease-duration-ms <ms>', 'a lease holder silent this long is replaced (default 2000)')
    .option('--renew-deadline-ms <ms>', 'a leader that could not renew for this long gives up (default 10000, or the lease duration + 2 retry periods if longer; its writes are fenced meanwhile)')
    .option('--retry-period-ms <ms>', 'how often the lease is renewed or tried (default: a quarter of the lease, 500)');

componentCommand('scheduler', 'run the scheduler against remote masters, active while it holds the kube-system/kube-scheduler Lease').action((flags) => runScheduler(flags));

componentCommand('controllers', 'run the controller manager (ReplicaSet, Deployment, garbage collector, namespace, node lifecycle) against remote masters, active while it holds the kube-system/kube-controller-manager Lease')
  .option('--node-monitor-grace-period-ms <ms>', 'a node whose Lease stops this long (or its leaseDurationSeconds if longer, up to 5 min) is Unknown and tainted (default 10000)')
  .option('--default-toleration-seconds <s>', 'pods on an unreachable or not-ready node are evicted after this (default 20)')
  .option('--cluster-cidr <cidr>', 'node podCIDRs are cut from this range (default 198.18.0.0/16)')
  .option('--node-cidr-mask-size <bits>', 'prefix length of each node podCIDR (default 24)')
  .action((flags) => runControllers(flags));

program
  .command('agent')
  .description('run the node agent: register this machine as a Node and run the pods bound to it through containerd on a CNI bridge')
  .option('--server <endpoints|file>', 'the masters: host:port[,host:port...] or a navctl config file (default: where navctl looks)')
  .option('--node-name <name>', 'the Node name (default: the host name)')
  .option('--node-ip <ip>', 'the address the masters reach this node on; logs and exec are served there', '127.0.0.1')
  .option('--data-dir <dir>', 'pods, volumes, logs and CNI state', '/var/lib/navarch/agent')
  .option('--containerd-socket <path>', "containerd's gRPC socket", '/run/containerd/containerd.sock')
  .option('--containerd-namespace <ns>', 'the containerd namespace the pods run in', 'navarch')
  .option('--stream-port <port>', 'logs and exec port (0: any free port)', '10250')
  .option('--node-lease-duration-seconds <s>', "the node Lease's duration, renewed every quarter of it; past the masters' --node-monitor-grace-period-ms it is how long they wait before marking the node Unknown (default 10)")
  .option('--bridge <name>', 'the pod bridge', 'navarch0')
  .option('--netns-dir <dir>', 'where pod network namespaces are mounted (default /run/netns)')
  .option('--metrics-port <port>', 'serve /metrics on 127.0.0.1:<port> (0: any free port)')
  .option('--runtime-state-dir <dir>', "the containers' output FIFOs, kept across agent restarts (default /run/navarch/containerd/<namespace>)")
  .option('--cgroup-parent <path>', "every container's cgroup parent (default /navarch)")
  .option('--runc-root <dir>', "runc's state dir for the pods' containers (default runc's, /run/containerd/runc)")
  .option('--stop-pods-on-exit', "on SIGTERM also kill the node's containers and remove their networks (a local cluster's shutdown); by default they keep running")
  .action((flags) => runAgent(flags));

program
  .command('hollow')
  .description('run N simulated agents (hollow nodes, as kubemark) in one process: Nodes, Leases, and pods bound to them reported Running')
  .option('--server <endpoints|file>', "the masters: host:port[,host:port...] or a navctl config file (default: where navctl looks)")
  .requiredOption('--nodes <n>', 'how many nodes')
  .option('--name-prefix <prefix>', 'node i is named <prefix><i>', 'hollow-')
  .option('--cpu <quantity>', 'cpu capacity of each node', '4')
  .option('--memory <quantity>', 'memory capacity of each node', '16Gi')
  .option('--pods <n>', 'pod capacity of each node', '110')
  .option('--ephemeral-storage <quantity>', 'ephemeral-storage capacity of each node', '100Gi')
  .option('--cidr <cidr>', "where the nodes' host IPs and pod CIDRs come from", DEFAULT_HOLLOW_CIDR)
  .option('--pod-cidr <cidr>', `where the pod CIDRs come from instead, IPv4 or IPv6 (default: --cidr while it gives each node --pods addresses, else ${DEFAULT_HOLLOW_POD_CIDR_V6})`)
  .option('--metrics-port <port>', 'serve /metrics on 127.0.0.1:<port> (0: any free port)')
  .option('--renew-interval-ms <ms>', 'node Lease renew interval (default 10000)')
  .option('--max-inflight-lease-writes <n>', 'Lease calls in flight at once over all nodes (default 256)')
  .option('--max-inflight-status-writes <n>', 'pod status writes and deletes in flight at once over all nodes (default 256)')
  .action((flags) => runHollow(flags));

program
  .command('up')
  .description('start a local cluster of masters on 127.0.0.1 (or bring a stopped one back with its data) and run the demo')
  .option('--dir <dir>', 'where data, logs, cluster.json and navctl.yaml go', '.navarch')
  .option('--masters <n>', 'number of masters, 1 to 7 (default: as many as the cluster in --dir had, else 3)')
  .option('--hollow-nodes <n>', 'also run N hollow nodes (simulated agents) in one navarch hollow process (default: as many as the cluster in --dir had)')
  .option('--no-agent', "masters only: no agent, containerd or registry on this machine (the demo's pods then stay Pending)")
  .action((flags) => runUp(flags));

program
  .command('down')
  .description('stop the local cluster started by up (SIGTERM, then SIGKILL after a deadline); the data stays')
  .option('--dir <dir>', 'the directory given to up', '.navarch')
  .option('--purge', 'also delete the directory: data, logs and records')
  .action((flags) => runDown(flags));

program.addCommand(imagesCommand());

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`navarch: ${e.message}\n`);
  process.exit(1);
});
