import { performance } from 'node:perf_hooks';
import { KeyLayout, PartitionKeys } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { Finding } from './finding';
import { ChainChecker, logChangedMissions } from './hash-chain';
import { walkChainsAndFold } from './log-walk';
import { noProgress, ProgressListener } from './progress';
import { compareReadModel, NotChecked, ReadModelComparison } from './read-model-drift';
import { checkReadyCounts } from './ready-counts';
import { ReplayFold } from './replay-fold';
import { DEFAULT_LOG_BATCH } from './stored-log';
import { logOfAnotherType, wrongTypeFinding } from './wrong-type-keys';

export interface VerifyResult {
  /** True when the log's chains, versions and heads hold and the read model equals its replay. */
  ok: boolean;
  findings: Finding[];
  /**
   * What could not be compared because it kept changing while verify ran (a busy log): not a
   * finding, so `ok` does not depend on it; running verify again when it is quieter checks it.
   */
  notChecked: NotChecked[];
  events: number;
  missions: number;
  eventsPerSecond: number;
  ms: number;
  /**
   * The log head each partition's walk ended at (the hash of its last event; '' for an empty
   * log), by partition: kept elsewhere, they are the anchors a later verify checks (`anchors`).
   */
  heads: string[];
}

/** A log head recorded earlier: the hash of an event the partition's log must still hold. */
export interface LogAnchor {
  partition: number;
  hash: string;
}

export interface VerifyOptions {
  batchSize?: number;
  /** Log heads recorded by an earlier verify: each must name an event of its partition's log, else `anchor-missing`. */
  anchors?: readonly LogAnchor[];
  /** Broken links explained per partition (ChainCheckerOptions); default 10,000. */
  maxBrokenLinks?: number;
}

/**
 * Verifies every log partition in turn (each has its own log chain, head, index and counters).
 * With more than one partition, log-level findings name theirs.
 */
export async function verifyLog(
  redis: RedisConnection,
  keys: KeyLayout,
  onProgress: ProgressListener = noProgress,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const started = performance.now();
  const results: VerifyResult[] = [];
  for (const partition of keys.partitions) {
    results.push(await verifyPartition(redis, partition, onProgress, options, (missionId) => keys.partitionOf(missionId) === partition.index));
  }
  const events = results.reduce((sum, r) => sum + r.events, 0);
  const findings = results.flatMap((r, index) =>
    keys.partitions.length === 1 ? r.findings : r.findings.map((f) => ({ ...f, detail: `partition ${index}: ${f.detail}` })),
  );
  const notChecked = results.flatMap((r, index) =>
    keys.partitions.length === 1 ? r.notChecked : r.notChecked.map((n) => ({ ...n, detail: `partition ${index}: ${n.detail}` })),
  );
  // Partitions are numbered from 0 up: a log written with more of them has the next one.
  const beyond = new PartitionKeys(keys.prefix, keys.partitions.length);
  if ((await redis.exists(beyond.log)) > 0) {
    findings.push({
      kind: 'misplaced',
      missionId: '',
      logId: '',
      detail: `there is a log partition ${beyond.index} beyond the ${keys.partitions.length} verified: verify with the LOG_PARTITIONS the log was written with`,
    });
  }
  const ms = performance.now() - started;
  return {
    ok: findings.length === 0,
    findings,
    notChecked,
    events,
    missions: results.reduce((sum, r) => sum + r.missions, 0),
    eventsPerSecond: ms > 0 ? Math.round((events / ms) * 1000) : 0,
    ms: Math.round(ms),
    heads: results.flatMap((r) => r.heads),
  };
}

/**
 * Everything an audit checks, in one walk over a partition's log: hash chains, contiguous
 * versions, log head and mission heads (hash-chain.ts), and the read model against a replay
 * (read-model-drift.ts).
 */
export async function verifyPartition(
  redis: RedisConnection,
  keys: PartitionKeys,
  onProgress: ProgressListener = noProgress,
  options: VerifyOptions = {},
  /** Whether a mission's events belong in this partition (the layout's partitionOf); without it, any mission's do. */
  belongsHere?: (missionId: string) => boolean,
): Promise<VerifyResult> {
  const started = performance.now();
  // A log of another Redis type (changed by hand) has no event to walk: named, and nothing else of the partition is compared.
  const log = await logOfAnotherType(redis, keys);
  if (log) {
    const findings = [wrongTypeFinding(log, 'no event of its partition can be read, so nothing of the partition was verified')];
    return { ok: false, findings, notChecked: [], events: 0, missions: 0, eventsPerSecond: 0, ms: Math.round(performance.now() - started), heads: [''] };
  }
  const batchSize = options.batchSize ?? DEFAULT_LOG_BATCH;
  const checker = new ChainChecker({ belongsHere, maxBrokenLinks: options.maxBrokenLinks });
  checker.watchFor((options.anchors ?? []).filter((anchor) => anchor.partition === keys.index).map((anchor) => anchor.hash));
  // history and state read a mission's events through its event list: verify holds the lists to the log.
  const fold = new ReplayFold({ keepLogIds: true });
  const walk = await walkChainsAndFold(redis, keys, checker, fold, onProgress, batchSize);
  const { findings: drift, notChecked: driftNotChecked } = await compareReadModel(redis, keys, fold, walk, onProgress);
  const ready = await compareReadyCounts(redis, keys, drift, fold.skillSets());
  // Both could not read some of the read model in step with a log that kept moving: not findings.
  const notChecked = [...checker.notChecked, ...driftNotChecked, ...ready.notChecked];
  const chain = await checker.findings(redis, keys, walk.position, { batchSize, onProgress });
  const changed = new Set(logChangedMissions(chain, checker.unanchoredMission));
  const anchors = checker.missingAnchors.map((hash): Finding => ({
    kind: 'anchor-missing',
    missionId: '',
    logId: '',
    detail: `the log head ${hash}, recorded earlier, names no event of the log: the log up to it was rewritten (its hashes recomputed) or cut`,
  }));
  const head = checker.logHeadOfAnotherType
    ? [wrongTypeFinding({ missionId: '', key: keys.logHead, expected: 'string' }, 'it vouches for no event, and every append to its partition fails on it')]
    : [];
  const findings = [...head, ...anchors, ...chain, ...drift.map((finding) => followingLogChange(finding, changed)), ...ready.findings];
  const ms = performance.now() - started;
  return {
    ok: findings.length === 0,
    findings,
    notChecked,
    events: walk.events,
    missions: fold.missions,
    eventsPerSecond: ms > 0 ? Math.round((walk.events / ms) * 1000) : 0,
    ms: Math.round(ms),
    heads: [checker.headHash],
  };
}

/** verify's notChecked detail for a ready queue that leases and enqueues kept moving through every read. */
export const READY_CHANGING = 'ready queue counts: changing while verify ran (leases and enqueues moved the ready queue through every read)';

/**
 * The ready queue's counts by level and by skill set, each skill set's ready queue and ready-since,
 * against the ready zset and its missions' queue fields (ready-counts.ts; the queues of `skillSets`,
 * the log's, whether or not a count names them): a key that differs is a
 * read-model-drift of no one mission, named; one of another type a wrong-type finding (once: a
 * mission's hash may already be named by `drift`); a queue that kept changing, not checked.
 */
async function compareReadyCounts(
  redis: RedisConnection,
  keys: PartitionKeys,
  drift: readonly Finding[],
  skillSets: Iterable<string>,
): Promise<ReadModelComparison> {
  const { settled, differences, wrongType } = await checkReadyCounts(redis, keys, skillSets);
  const findings = differences.map(({ detail }): Finding => ({ kind: 'read-model-drift', missionId: '', logId: '', detail }));
  for (const key of wrongType) {
    const finding = wrongTypeFinding(key);
    if (!drift.some((known) => known.kind === 'wrong-type' && known.detail === finding.detail)) findings.push(finding);
  }
  const notChecked = settled || wrongType.length > 0 ? [] : [{ missionId: '', detail: READY_CHANGING }];
  return { findings, notChecked };
}

/**
 * A mission's drift from a replay of a log changed under it is the change's consequence, not drift to
 * repair: its read model may still hold what the log said before, and `rebuild` leaves it alone. Said
 * so, for the operator's remedy to be the log's. Only for the missions whose log events were changed
 * (`changed`, logChangedMissions, as rebuild decides): not for a mission whose hash is gone with its
 * log intact, whose head-mismatch (no h) is the hash's own, and which rebuild writes whole again.
 */
function followingLogChange(finding: Finding, changed: ReadonlySet<string>): Finding {
  if (!finding.missionId || !changed.has(finding.missionId)) return finding;
  return {
    ...finding,
    detail: `follows the change of its log events named above, not drift to rebuild (the read model may still hold what the log said before): ${finding.detail}`,
  };
}
