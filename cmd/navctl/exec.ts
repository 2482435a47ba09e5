// `navctl exec [-i] [-t] POD [-c container] -- COMMAND [ARGS...]`: runs a command in a running
// container through the masters, as kubectl exec. With -t and a terminal on stdin, the terminal goes
// raw (keys, Ctrl-C included, go to the command) and follows window resizes; navctl exits with the
// command's exit code.

import type { Command } from 'commander';
import type { TerminalSize } from '../../gen/navarch/agent/v1/streams.js';
import { PodStreams } from '../../pkg/client/pod_streams.js';
import { parsePodArg, resolveContainer } from './pod_target.js';
import { err, withSession } from './session.js';

export interface ExecFlags {
  stdin?: boolean;
  tty?: boolean;
  container?: string;
}

/** Whether to run under a TTY: -t needs -i and a terminal on stdin; kubectl's warnings otherwise. */
export function useTty(flags: ExecFlags, stdinIsTty: boolean, warn: (text: string) => void): boolean {
  if (!flags.tty) return false;
  if (!flags.stdin) {
    warn('Unable to use a TTY - input is not requested (-i is not set)\n');
    return false;
  }
  if (!stdinIsTty) {
    warn('Unable to use a TTY - input is not a terminal or the right kind of file\n');
    return false;
  }
  return true;
}

function terminalSize(): TerminalSize {
  return { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('run a command in a running container: navctl exec [-i] [-t] POD [-c container] -- COMMAND [ARGS...]')
    .argument('<pod>', 'POD or pod/POD')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-i, --stdin', "pass navctl's stdin to the command")
    .option('-t, --tty', 'run the command under a terminal (with -i and a terminal on stdin)')
    .option('-c, --container <name>', 'the container to run in (default: the pod\'s default container)')
    .action((podArg: string, command: string[], flags: ExecFlags) =>
      withSession(program, async (s) => {
        const name = parsePodArg(podArg);
        const tty = useTty(flags, process.stdin.isTTY === true, err);
        const container = await resolveContainer(s, name, flags.container);
        const streams = new PodStreams(s.config.endpoints);
        const stdin = process.stdin;
        const raw = tty && typeof stdin.setRawMode === 'function';
        const onWinch: ((size: TerminalSize) => void)[] = [];
        const winch = (): void => onWinch.forEach((f) => f(terminalSize()));
        // In raw mode Ctrl-C goes to the command; a signal from elsewhere must not leave the terminal raw.
        const restoreAndExit = (signal: NodeJS.Signals): void => {
          stdin.setRawMode(false);
          process.exit(128 + (signal === 'SIGHUP' ? 1 : 15));
        };
        try {
          if (raw) {
            stdin.setRawMode(true);
            process.once('SIGTERM', restoreAndExit);
            process.once('SIGHUP', restoreAndExit);
          }
          if (tty) process.on('SIGWINCH', winch);
          const code = await streams.exec(
            { namespace: s.namespace, name, container, argv: command, tty },
            {
              stdin: flags.stdin ? stdin : undefined,
              stdout: process.stdout,
              stderr: process.stderr,
              terminalSize: tty
                ? {
                    initial: terminalSize(),
                    subscribe: (f) => {
                      onWinch.push(f);
                      return () => onWinch.splice(onWinch.indexOf(f), 1);
                    },
                  }
                : undefined,
            },
          );
          process.exitCode = code;
        } finally {
          if (tty) process.off('SIGWINCH', winch);
          if (raw) {
            stdin.setRawMode(false);
            process.off('SIGTERM', restoreAndExit);
            process.off('SIGHUP', restoreAndExit);
          }
          // Let the process end even though stdin was read.
          stdin.pause();
          stdin.unref?.();
          streams.close();
        }
      }),
    );
}
