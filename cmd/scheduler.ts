// `navarch scheduler`: the scheduler against remote masters, active while it holds the
// kube-system/kube-scheduler Lease (every master also runs one unless --no-scheduler).

import { runComponent, type ComponentFlags } from './controllers.js';

export const runScheduler = (flags: ComponentFlags): Promise<void> => runComponent('scheduler', flags);
