import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface ProcessExit {
  code: number | null;
  /** Every non-empty line it printed, stdout and stderr as they came. */
  output: string[];
}

/** Runs `command args` until it exits, killed after `deadlineMs` so that a hang fails the test instead of stalling it. */
export async function runUntilExit(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; deadlineMs: number },
): Promise<ProcessExit> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const deadline = setTimeout(() => child.kill('SIGKILL'), options.deadlineMs);
  try {
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, output };
  } finally {
    clearTimeout(deadline);
  }
}
