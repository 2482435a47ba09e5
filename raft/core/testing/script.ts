// A small script language over TestCluster for golden scenario files, in the
// style of etcd-io/raft's testdata: each command is followed by `----` and the
// output it must produce. UPDATE_GOLDEN=1 rewrites the expected output.

import type { ConfChangeType } from '../conf_change.js';
import type { Message } from '../types.js';
import { TestCluster } from './cluster.js';

const dec = new TextDecoder();

export interface ScriptBlock {
  command: string;
  expected: string;
}

export function parseScript(text: string): ScriptBlock[] {
  const lines = text.split('\n');
  const blocks: ScriptBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    if (lines[i + 1]?.trim() !== '----') throw new Error(`Script line ${i + 1}: expected "----" after "${line}"`);
    i += 2;
    const out: string[] = [];
    while (i < lines.length && lines[i].trim() !== '') out.push(lines[i++]);
    blocks.push({ command: line, expected: out.join('\n') });
  }
  return blocks;
}

export function formatScript(blocks: ScriptBlock[], comments: Map<number, string[]>): string {
  const out: string[] = [];
  blocks.forEach((b, i) => {
    for (const c of comments.get(i) ?? []) out.push(c);
    out.push(b.command, '----', b.expected, '');
  });
  return out.join('\n');
}

/** Comment lines that precede each block, so rewriting keeps them. */
export function scriptComments(text: string): Map<number, string[]> {
  const res = new Map<number, string[]>();
  let pending: string[] = [];
  let block = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t.startsWith('#')) pending.push(lines[i]);
    else if (t !== '' && lines[i + 1]?.trim() === '----') {
      res.set(block++, pending);
      pending = [];
      i++;
      while (i + 1 < lines.length && lines[i + 1].trim() !== '') i++;
    }
  }
  return res;
}

function describe(m: Message): string {
  const parts = [`${m.from}->${m.to} ${m.type} term=${m.term}`];
  if (m.type === 'MsgApp' || m.type === 'MsgVote' || m.type === 'MsgPreVote') parts.push(`logTerm=${m.logTerm} index=${m.index}`);
  if (m.type === 'MsgAppResp') parts.push(`index=${m.index}`);
  if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat') parts.push(`commit=${m.commit}`);
  if (m.entries.length > 0) parts.push(`entries=[${m.entries.map((e) => `${e.term}/${e.index}${e.data.byteLength > 0 ? ` ${e.type === 'confChange' ? 'conf' : JSON.stringify(dec.decode(e.data))}` : ''}`).join(', ')}]`);
  if (m.snapshot) parts.push(`snapshot=${m.snapshot.metadata.term}/${m.snapshot.metadata.index}`);
  if (m.reject) parts.push(`reject hint=${m.rejectHint}`);
  return parts.join(' ');
}

/** Runs commands against one cluster; each returns the text it printed. */
export class ScriptRunner {
  private c: TestCluster | undefined;
  private trace: string[] = [];

  private cluster(): TestCluster {
    if (!this.c) throw new Error('Script must start with "add-nodes"');
    return this.c;
  }

  run(command: string): string {
    const [cmd, ...args] = command.split(/\s+/);
    const num = (i: number): number => {
      const n = Number(args[i]);
      if (!Number.isInteger(n)) throw new Error(`Command "${command}": argument ${i + 1} "${args[i]}" is not an integer`);
      return n;
    };
    this.trace = [];
    switch (cmd) {
      case 'add-nodes': {
        const opts: Record<string, boolean> = {};
        for (const a of args.slice(1)) {
          const [k, v] = a.split('=');
          opts[k] = v === 'true';
        }
        this.c = new TestCluster(
          Array.from({ length: num(0) }, (_, i) => i + 1),
          { preVote: opts.preVote, checkQuorum: opts.checkQuorum },
        );
        const c = this.c;
        const send = (c as unknown as { send(m: Message): void }).send.bind(c);
        (c as unknown as { send(m: Message): void }).send = (m: Message) => {
          if (m.type !== 'MsgHeartbeat' && m.type !== 'MsgHeartbeatResp') this.trace.push(describe(m));
          send(m);
        };
        return 'ok';
      }
      case 'campaign':
        this.cluster().member(num(0)).rn.campaign();
        this.cluster().stabilize();
        break;
      case 'tick':
        this.cluster().tick(args.length > 0 ? num(0) : 1, args.length > 1 ? args.slice(1).map(Number) : undefined);
        break;
      case 'stabilize':
        this.cluster().stabilize();
        break;
      case 'isolate':
        this.cluster().isolate(num(0));
        break;
      case 'heal':
        this.cluster().heal();
        break;
      case 'crash':
        this.cluster().crash(num(0));
        break;
      case 'restart':
        this.cluster().restart(num(0));
        break;
      case 'add-member':
        this.cluster().addMember(num(0), []);
        break;
      case 'compact':
        this.cluster().snapshotAndCompact(num(0));
        break;
      case 'propose':
        try {
          this.cluster().propose(num(0), args.slice(1).join(' '));
        } catch (e) {
          return `error: ${(e as Error).message}`;
        }
        this.cluster().stabilize();
        break;
      case 'propose-conf-change':
        try {
          this.cluster().proposeConfChange(num(0), { type: args[1] as ConfChangeType, nodeId: num(2) });
        } catch (e) {
          return `error: ${(e as Error).message}`;
        }
        this.cluster().stabilize();
        break;
      case 'transfer-leader':
        this.cluster().member(num(0)).rn.transferLeadership(num(1));
        this.cluster().stabilize();
        break;
      case 'status':
        return this.status();
      case 'applied':
        return [...this.cluster().members.keys()].map((id) => `${id}: ${this.cluster().appliedData(id).join(' ') || '(none)'}`).join('\n');
      default:
        throw new Error(`Unknown script command "${cmd}"`);
    }
    return this.trace.length > 0 ? this.trace.join('\n') : 'ok';
  }

  private status(): string {
    const c = this.cluster();
    return [...c.members.values()]
      .map((m) => {
        const r = m.rn.raft;
        if (!m.up) return `${m.id}: down`;
        return `${m.id}: ${r.role} term=${r.term} lead=${r.lead} commit=${r.log.committed} last=${r.log.lastIndex()} voters=[${r.voters.join(' ')}] learners=[${r.learners.join(' ')}]`;
      })
      .join('\n');
  }
}

export function runScript(text: string): { blocks: ScriptBlock[]; actual: ScriptBlock[] } {
  const blocks = parseScript(text);
  const runner = new ScriptRunner();
  const actual = blocks.map((b) => ({ command: b.command, expected: runner.run(b.command) }));
  return { blocks, actual };
}

