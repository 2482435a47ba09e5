// navctl: the kubectl of Navarch. Object commands go to the masters' object API through
// pkg/client; cluster and snapshot commands speak the etcd-compatible API of the same ports.
// Endpoints: --server, $NAVCTL_SERVER, --config, $NAVCTL_CONFIG, ./.navarch/navctl.yaml,
// ~/.navarch/navctl.yaml (see navctl/config.ts).

import { Command } from 'commander';
import { registerAnnotate, registerLabel } from './navctl/label.js';
import { registerApply } from './navctl/apply.js';
import { registerClusterCommands } from './navctl/cluster.js';
import { resolveFromProcess } from './navctl/config.js';
import { registerCreate } from './navctl/create.js';
import { registerDelete } from './navctl/delete.js';
import { registerDescribe } from './navctl/describe.js';
import { registerNodeMaintenance } from './navctl/drain.js';
import { registerExec } from './navctl/exec.js';
import { registerGet } from './navctl/get.js';
import { registerLogs } from './navctl/logs.js';
import { registerRollout } from './navctl/rollout.js';
import { registerScale } from './navctl/scale.js';
import { registerSetImage } from './navctl/set_image.js';
import { registerTop } from './navctl/top.js';
import { formatError, type GlobalFlags } from './navctl/session.js';
import { registerSnapshotCommands } from './navctl/snapshot.js';
import { registerVersion } from './navctl/version.js';

// `navctl get pods | head -1`: a reader that went away is the end of the output, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command('navctl')
  .description('Navarch command-line client: manage objects on the masters, as kubectl does on Kubernetes')
  .option('--server <host:port,...>', "the masters' client addresses (overrides any config file)")
  .option('--config <file>', 'navctl config file (default: ./.navarch/navctl.yaml, then ~/.navarch/navctl.yaml)')
  .option('-n, --namespace <namespace>', "the namespace to act in (default: the config's namespace, else default)")
  .option('--request-timeout <duration>', 'give up on a request after this long, e.g. 5s, 1m (default: try the other masters for 5s)')
  .showHelpAfterError();

const endpoints = (): string[] => resolveFromProcess(program.opts<GlobalFlags>()).endpoints;

registerApply(program);
registerCreate(program);
registerGet(program);
registerDescribe(program);
registerDelete(program);
registerLabel(program);
registerAnnotate(program);
registerScale(program);
registerSetImage(program);
registerRollout(program);
registerNodeMaintenance(program);
registerLogs(program);
registerExec(program);
registerTop(program);
registerVersion(program, endpoints);
registerClusterCommands(program, endpoints);
registerSnapshotCommands(program, endpoints);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`${formatError(e)}\n`);
  process.exit(1);
});
