import { redisTarget } from '@app/testing';
import { CliIo, runReplay } from '../../scripts/replay';

export interface ReplayRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `replay <args>` in-process against the test Redis (a cluster under `npm run test:cluster`), with `env` on top, capturing its output. */
export async function runReplayCli(args: string[], env: CliIo['env'] = {}): Promise<ReplayRun> {
  let stdout = '';
  let stderr = '';
  const target = redisTarget();
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { REDIS_URL: target.REDIS_URL, REDIS_CLUSTER_NODES: target.REDIS_CLUSTER_NODES, ...env },
  };
  const code = await runReplay(args, io);
  return { code, stdout, stderr };
}

/** A finding as `replay --json verify` prints it. */
export interface VerifyFinding {
  kind: string;
  missionId: string;
  logId: string;
  version?: number;
  detail: string;
}

/** `replay --json verify` under `env`: its exit code and findings. */
export async function verifyFindingsCli(env: CliIo['env']): Promise<{ code: number; findings: VerifyFinding[] }> {
  const run = await runReplayCli(['--json', 'verify'], env);
  return { code: run.code, findings: (JSON.parse(run.stdout) as { findings: VerifyFinding[] }).findings };
}
