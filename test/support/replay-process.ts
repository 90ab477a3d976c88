import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';

export interface ReplayProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ReplayProcess {
  child: ChildProcess;
  exited: Promise<ReplayProcessExit>;
}

const ROOT = path.resolve(__dirname, '..', '..');

/** `replay <args>` from dist/ as its own process (for what it does on a signal), killed after `deadlineMs` so a hang fails the test. */
export function startReplay(args: readonly string[], env: NodeJS.ProcessEnv, deadlineMs = 30_000): ReplayProcess {
  const child = spawn(process.execPath, ['dist/scripts/replay.js', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const deadline = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const exited = once(child, 'close').then(([code, signal]) => {
    clearTimeout(deadline);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
  return { child, exited };
}
