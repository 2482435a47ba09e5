// `navctl rollout status|history|undo|pause|resume|restart deployment/NAME`: kubectl's rollout
// commands, sending what kubectl sends (pause, resume and restart are strategic merge patches,
// undo is a JSON patch) and printing what it prints. Only Deployments roll out here: there is no
// DaemonSet or StatefulSet controller yet.

import type { Command } from 'commander';
import type { Deployment } from '../../pkg/api/registry.js';
import { formatTimeMs } from '../../pkg/controllers/controller_utils.js';
import { withoutHashLabel } from '../../pkg/controllers/deployment/hash.js';
import { parseGetArgs } from './get.js';
import { describePodTemplate } from './print/describe.js';
import { fetchRevisions, historyText, rollbackTarget, undoPatch } from './rollout_history.js';
import { followRollout } from './rollout_status.js';
import { dryRunSuffix, out, parseDryRun, parseDuration, report, withSession, type Session } from './session.js';

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** The Deployment names the arguments give ("deployment/web", "deploy web db"); anything else is refused. */
export function deploymentNames(args: readonly string[]): string[] {
  const names: string[] = [];
  for (const r of parseGetArgs(args)) {
    if (r.info.kind !== 'Deployment') throw new Error(`rollout is only implemented for deployments (there is no ${r.info.kind} controller that rolls out), got "${r.info.resource}"`);
    names.push(...r.names);
  }
  if (names.length === 0) throw new Error('required resource not specified: name the deployment, e.g. deployment/web');
  return names;
}

type Step = (s: Session, d: Deployment) => Promise<string>;

/** Runs `step` on each named Deployment, printing "deployment.apps/NAME <result>"; errors are reported per name. */
async function eachDeployment(s: Session, args: readonly string[], step: Step): Promise<void> {
  for (const name of deploymentNames(args)) {
    try {
      const d = await s.client.get<Deployment>('deployments', s.namespace, name);
      out(`deployment.apps/${name} ${await step(s, d)}\n`);
    } catch (e) {
      report(e);
    }
  }
}

const pause: Step = async (s, d) => {
  if (d.spec?.paused) throw new Error(`deployments.apps "${d.metadata?.name}" is already paused`);
  await s.client.patch('deployments', s.namespace, d.metadata!.name!, 'strategic', { spec: { paused: true } });
  return 'paused';
};

const resume: Step = async (s, d) => {
  if (!d.spec?.paused) throw new Error(`deployments.apps "${d.metadata?.name}" is not paused`);
  await s.client.patch('deployments', s.namespace, d.metadata!.name!, 'strategic', { spec: { paused: null } });
  return 'resumed';
};

/** A new template annotation: a new pod-template-hash, so the controller replaces every pod. */
export function restartPatch(d: Deployment, now: Date): unknown {
  if (d.spec?.paused) throw new Error(`deployments.apps "${d.metadata?.name}" can't restart paused deployment (run rollout resume first)`);
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: formatLocalTime(now) } } } } };
}

/** Go's time.Now().Format(time.RFC3339), as kubectl writes it: local time with its offset ("Z" in UTC). */
export function formatLocalTime(t: Date): string {
  const offsetMin = -t.getTimezoneOffset();
  if (offsetMin === 0) return formatTimeMs(t.getTime());
  const two = (n: number) => String(n).padStart(2, '0');
  const a = Math.abs(offsetMin);
  const zone = `${offsetMin < 0 ? '-' : '+'}${two(Math.floor(a / 60))}:${two(a % 60)}`;
  return `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())}T${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}${zone}`;
}

const restart: Step = async (s, d) => {
  await s.client.patch('deployments', s.namespace, d.metadata!.name!, 'strategic', restartPatch(d, new Date()));
  return 'restarted';
};

/** kubectl's order: the revision must exist, a client dry run shows its template, then a paused Deployment is refused. */
const undo =
  (toRevision: number, dryRun: ReturnType<typeof parseDryRun>): Step =>
  async (s, d) => {
    const name = d.metadata!.name!;
    const rs = rollbackTarget(name, await fetchRevisions(s.client, d), toRevision);
    if (dryRun === 'client') return `rolled back (dry run)\n${describePodTemplate(withoutHashLabel(rs.spec?.template)).trimEnd()}`;
    if (d.spec?.paused) throw new Error(`you cannot rollback a paused deployment; resume it first with 'navctl rollout resume deployment/${name}' and try again`);
    const patch = undoPatch(d, rs);
    // kubectl names the revision asked for here: 0 when none was.
    if (!patch) return `skipped rollback (current template already matches revision ${toRevision})`;
    try {
      await s.client.patch('deployments', s.namespace, name, 'json', patch, { dryRun: dryRun === 'server' });
    } catch (e) {
      throw new Error(`failed restoring revision ${toRevision}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return `rolled back${dryRunSuffix(dryRun)}`;
  };

function parseRevision(text: string | undefined, flag = '--revision'): number {
  if (text === undefined) return 0;
  if (/^-\d+$/.test(text.trim())) throw new Error(`revision must be a positive integer: ${text.trim()}`);
  if (!/^\d+$/.test(text.trim())) throw new Error(`Invalid ${flag} "${text}": expected a revision number (0 for the latest)`);
  return Number(text);
}

function parseBool(flag: string, v: string | boolean | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new Error(`Invalid ${flag} "${v}": expected true or false`);
}

export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description("manage a Deployment's rollout: status, history, undo, pause, resume, restart");
  rollout
    .command('status')
    .description('watch the rollout until it completes (exit 0) or fails (exit 1)')
    .argument('<args...>', 'deployment/NAME')
    .option('-w, --watch [bool]', 'watch until done (--watch=false: print the current state once)')
    .option('--revision <n>', 'fail unless the rollout is at this revision')
    .option('--timeout <duration>', 'give up after this long, e.g. 5m (default: wait for ever)')
    .action((args: string[], f: { watch?: string | boolean; revision?: string; timeout?: string }) =>
      withSession(program, async (s) => {
        const names = deploymentNames(args);
        if (names.length !== 1) throw new Error(`rollout status is only supported on individual resources and resource collections - ${names.length} resources were found`);
        const o = { watch: parseBool('--watch', f.watch, true), revision: parseRevision(f.revision), timeoutMs: f.timeout ? parseDuration('--timeout', f.timeout) : 0 };
        await followRollout(s.client, s.namespace, names[0], o, (line) => out(`${line}\n`));
      }),
    );
  rollout
    .command('history')
    .description("list a Deployment's revisions, or show one revision's pod template (--revision)")
    .argument('<args...>', 'deployment/NAME')
    .option('--revision <n>', "show this revision's pod template")
    .action((args: string[], f: { revision?: string }) =>
      withSession(program, async (s) => {
        const revision = parseRevision(f.revision);
        for (const name of deploymentNames(args)) {
          try {
            const d = await s.client.get<Deployment>('deployments', s.namespace, name);
            out(historyText(name, await fetchRevisions(s.client, d), revision));
          } catch (e) {
            report(e);
          }
        }
      }),
    );
  rollout
    .command('undo')
    .description('roll back to the previous revision, or to --to-revision')
    .argument('<args...>', 'deployment/NAME')
    .option('--to-revision <n>', 'the revision to roll back to (default: the one before the current)')
    .option('--dry-run [mode]', 'client: only say what would happen; server: the server checks, stores nothing')
    .action((args: string[], f: { toRevision?: string; dryRun?: string | boolean }) =>
      withSession(program, (s) => eachDeployment(s, args, undo(parseRevision(f.toRevision, '--to-revision'), parseDryRun(f.dryRun)))),
    );
  for (const [verb, step, what] of [
    ['pause', pause, 'stop rolling out template changes until resumed'],
    ['resume', resume, 'roll out template changes again'],
    ['restart', restart, 'replace every pod (a new restartedAt annotation in the template)'],
  ] as const) {
    rollout
      .command(verb)
      .description(what)
      .argument('<args...>', 'deployment/NAME ...')
      .action((args: string[]) => withSession(program, (s) => eachDeployment(s, args, step)));
  }
}
