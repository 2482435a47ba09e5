// One record of a container log file, in the CRI format the runtime writes (see ContainerConfig.logPath):
//   "<RFC3339Nano> stdout|stderr F|P <text>"
// F ends a line; P is a piece of a longer line whose rest follows in the next records. The agent
// turns records back into the text the container wrote, optionally prefixed with their times.

export interface LogRecord {
  /** The RFC3339Nano time as written, e.g. "2026-12-02T12:17:34.123456789Z". */
  time: string;
  /** Milliseconds since the epoch (fraction beyond ms dropped); NaN when the time does not parse. */
  timeMs: number;
  stream: 'stdout' | 'stderr';
  /** P: the line continues in the next record. */
  partial: boolean;
  text: Buffer;
}

const SPACE = 0x20;

/** Parses one line of a log file (without its "\n"); undefined when it is not a CRI record. */
export function parseRecord(line: Buffer): LogRecord | undefined {
  const s1 = line.indexOf(SPACE);
  if (s1 <= 0) return undefined;
  const s2 = line.indexOf(SPACE, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = line.toString('latin1', s2 + 1, s2 + 2);
  if ((tag !== 'F' && tag !== 'P') || (line.length > s2 + 2 && line[s2 + 2] !== SPACE)) return undefined;
  const time = line.toString('latin1', 0, s1);
  return { time, timeMs: parseTimeMs(time), stream, partial: tag === 'P', text: line.subarray(Math.min(line.length, s2 + 3)) };
}

/** RFC3339 with any number of fraction digits, to milliseconds. */
export function parseTimeMs(time: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return NaN;
  const ms = (m[2] ?? '').slice(0, 3).padEnd(3, '0');
  return Date.parse(`${m[1]}.${ms}${m[3]}`);
}

/** "2026-12-02T12:17:34.123000000Z": the format the runtime writes, from milliseconds. */
export function formatTimeNano(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** One record as a log line: "<time> <stream> F <text>\n" (what runtimes and test doubles write). */
export function formatRecord(ms: number, stream: 'stdout' | 'stderr', text: string, partial = false): string {
  return `${formatTimeNano(ms)} ${stream} ${partial ? 'P' : 'F'} ${text}\n`;
}

/**
 * The text a user sees for one record: its content, a newline unless it is partial, and with
 * timestamps the record's time in front (as kubectl logs --timestamps prints it).
 */
export function renderRecord(r: LogRecord, timestamps: boolean): Buffer {
  const parts: Buffer[] = [];
  if (timestamps) parts.push(Buffer.from(`${r.time} `, 'latin1'));
  parts.push(r.text);
  if (!r.partial) parts.push(NEWLINE);
  return Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');
