import { ChildProcess, ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { Readable } from 'node:stream';

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

/**
 * `env` as a shell gives it, without npm's variables: under `npm test` they would tell replay that
 * `npm run` started it, which refuses an export to stdout (npm's header would be in it).
 */
export function outsideNpm(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('npm_')));
}

/** `replay <args>` from dist/ as its own process (for what it does on a signal), killed after `deadlineMs` so a hang fails the test. */
export function startReplay(args: readonly string[], env: NodeJS.ProcessEnv, deadlineMs = 30_000): ReplayProcess {
  const child = spawn(process.execPath, ['dist/scripts/replay.js', ...args], { cwd: ROOT, env: outsideNpm(env), stdio: ['ignore', 'pipe', 'pipe'] });
  return started(child, deadlineMs);
}

/**
 * `replay <args> <redirect>` run by bash, e.g. `| gzip > "$FILE"` or `>> "$FILE"`, exiting with
 * replay's own code: its stdout is then a real pipe or file (a child's piped stdio in node is a
 * socket); `stdout` is what reaches the test past the redirect, `stderr` replay's own.
 */
export function startReplayInShell(args: readonly string[], redirect: string, env: NodeJS.ProcessEnv, deadlineMs = 30_000): ReplayProcess {
  return startInShell('"$REPLAY_NODE" dist/scripts/replay.js', args, redirect, env, deadlineMs);
}

/**
 * `npm run <npmOptions> replay -- <args> <redirect>` run by bash as startReplayInShell runs replay,
 * as an operator types it: npm's variables are those npm itself sets.
 */
export function startNpmReplayInShell(
  npmOptions: readonly string[],
  args: readonly string[],
  redirect: string,
  env: NodeJS.ProcessEnv,
  deadlineMs = 30_000,
): ReplayProcess {
  return startInShell(`npm run ${npmOptions.join(' ')} replay --`, args, redirect, env, deadlineMs);
}

/**
 * `npm run <script>` of the package in `dir` (a package.json a test writes), run by bash as an
 * operator types it; its script finds `dist/scripts/replay.js` under $REPLAY_ROOT and node as $REPLAY_NODE.
 */
export function startNpmScriptInShell(dir: string, script: string, env: NodeJS.ProcessEnv, deadlineMs = 30_000): ReplayProcess {
  return startInShell(`npm run --prefix "$NPM_PACKAGE_DIR" ${script}`, [], '', { ...env, NPM_PACKAGE_DIR: dir, REPLAY_ROOT: ROOT }, deadlineMs);
}

function startInShell(command: string, args: readonly string[], redirect: string, env: NodeJS.ProcessEnv, deadlineMs: number): ReplayProcess {
  const script = `${command} "$@" ${redirect}; exit "\${PIPESTATUS[0]}"`;
  const child = spawn('bash', ['-c', script, 'replay', ...args], {
    cwd: ROOT,
    env: { ...outsideNpm(env), REPLAY_NODE: process.execPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return started(child, deadlineMs);
}

function started(child: ChildProcessByStdio<null, Readable, Readable>, deadlineMs: number): ReplayProcess {
  let stdout = '';
  let stderr = '';
  // Decoded across chunks: a character split between two reads stays whole (an export compared byte for byte).
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const deadline = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const exited = once(child, 'close').then(([code, signal]) => {
    clearTimeout(deadline);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
  return { child, exited };
}
