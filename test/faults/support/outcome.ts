import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { fold, MissionEvent } from '@app/mission';
import { waitFor } from '@app/testing';
import { queueInvariantViolations } from '../../support/queue-invariant';
import { sleep } from './ports';
import { Service, SERVICES } from './service-processes';
import { ExpectedEnd } from './workload';

/** For the fault suite, a mission is finished when nothing will move it any more without an operator. */
export const FINISHED = ['succeeded', 'dead_lettered', 'cancelled'] as const;
const FINISHED_SET = new Set<string>(FINISHED);

const PIPELINE_CHUNK = 1_000;
const LOG_BATCH = 5_000;

/** Statuses of `ids` (null: no read model), read in pipelined chunks. */
export async function readStatuses(redis: Redis, keys: KeyLayout, ids: readonly string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < ids.length; i += PIPELINE_CHUNK) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + PIPELINE_CHUNK)) pipeline.hget(keys.mission(id), 'st');
    for (const [error, value] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      out.push((value as string | null) ?? null);
    }
  }
  return out;
}

export interface TerminalWait {
  finished: boolean;
  ms: number;
  /** Missions still unfinished at the end, with their status ('missing': no read model). */
  unfinished: { id: string; status: string }[];
}

/** Polls only the missions not yet finished, until all are or the timeout passes. */
export async function waitForFinished(redis: Redis, keys: KeyLayout, ids: readonly string[], timeoutMs: number, pollMs = 500): Promise<TerminalWait> {
  const started = Date.now();
  let open = ids.map((id) => ({ id, status: 'unread' }));
  for (;;) {
    const statuses = await readStatuses(
      redis,
      keys,
      open.map((o) => o.id),
    ).catch(() => open.map(() => 'unreadable'));
    open = open.map((o, i) => ({ id: o.id, status: statuses[i] ?? 'missing' })).filter((o) => !FINISHED_SET.has(o.status));
    if (open.length === 0) return { finished: true, ms: Date.now() - started, unfinished: [] };
    if (Date.now() - started > timeoutMs) return { finished: false, ms: Date.now() - started, unfinished: open };
    await sleep(pollMs);
  }
}

/** Every event in the log, grouped by mission, in log order (XRANGE in batches of 5000). */
export async function readHistories(redis: Redis, keys: KeyLayout): Promise<Map<string, MissionEvent[]>> {
  const byMission = new Map<string, MissionEvent[]>();
  let start = '-';
  for (;;) {
    const entries = (await redis.xrange(keys.partitions[0].log, start, '+', 'COUNT', LOG_BATCH)) as [string, string[]][];
    for (const [, fields] of entries) {
      const json = fields[fields.indexOf('e') + 1];
      const event = JSON.parse(json) as MissionEvent;
      let list = byMission.get(event.missionId);
      if (!list) byMission.set(event.missionId, (list = []));
      list.push(event);
    }
    if (entries.length < LOG_BATCH) break;
    start = `(${entries[entries.length - 1][0]}`;
  }
  return byMission;
}

/** The problems in one mission's history; empty when it is sound. */
export function historyViolations(id: string, events: readonly MissionEvent[], status: string | null, version: number | null): string[] {
  const problems: string[] = [];
  if (events.length === 0) return [`${id}: no events in the log`];
  const versions = events.map((e) => e.version);
  if (!versions.every((v, i) => v === i + 1)) problems.push(`${id}: versions not contiguous 1..n: ${versions.join(',')}`);
  if (version !== null && version !== events.length) problems.push(`${id}: read model version ${version} but ${events.length} events in the log`);
  const created = events.filter((e) => e.type === 'MissionCreated').length;
  if (created !== 1 || events[0].type !== 'MissionCreated') problems.push(`${id}: ${created} MissionCreated events (first is ${events[0].type})`);
  const passing = events.filter((e) => e.type === 'MissionEvaluated' && (e.data as { passed?: boolean }).passed === true).length;
  if (passing > 1) problems.push(`${id}: ${passing} passing MissionEvaluated events`);
  if (status === 'succeeded' && passing !== 1) problems.push(`${id}: succeeded without exactly one passing evaluation (${passing})`);
  let holding: MissionEvent | null = null;
  for (const event of events) {
    if (event.type === 'MissionAssigned') {
      if (holding) {
        problems.push(
          `${id}: second MissionAssigned v${event.version} (${(event.data as { agentId?: string }).agentId}) while v${holding.version} (${(holding.data as { agentId?: string }).agentId}) is live`,
        );
      }
      holding = event;
    } else if (['MissionQueued', 'MissionScheduled', 'MissionDeadLettered', 'MissionCancelled', 'MissionEvaluated'].includes(event.type)) {
      holding = null;
    }
  }
  // The status the history folds to (evolve), so events that change no status (MissionOverdue) count right.
  let implied: string | null = null;
  try {
    implied = fold(events)?.status ?? null;
  } catch (error) {
    problems.push(`${id}: the history does not fold: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (status && FINISHED_SET.has(status) && implied !== status) problems.push(`${id}: status ${status} but the history folds to ${implied}`);
  return problems;
}

export interface PendingEntry {
  service: Service;
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

export interface GroupState {
  service: Service;
  exists: boolean;
  pending: PendingEntry[];
  lag: number | null;
  consumers: number;
}

/** The consumer group of each service stream: does it exist, and what is pending in it. */
export async function groupStates(redis: Redis, keys: KeyLayout): Promise<GroupState[]> {
  const states: GroupState[] = [];
  for (const service of SERVICES) {
    const stream = keys.partitions[0].stream(service);
    let groups: unknown[][] = [];
    try {
      groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
    } catch {
      groups = [];
    }
    const info = groups.map(pairsToObject).find((g) => g.name === service);
    if (!info) {
      states.push({ service, exists: false, pending: [], lag: null, consumers: 0 });
      continue;
    }
    const rows = (await redis.xpending(stream, service, '-', '+', 10_000)) as [string, string, number, number][];
    states.push({
      service,
      exists: true,
      pending: rows.map(([id, consumer, idleMs, deliveries]) => ({ service, id, consumer, idleMs: Number(idleMs), deliveries: Number(deliveries) })),
      lag: info.lag === null || info.lag === undefined ? null : Number(info.lag),
      consumers: Number(info.consumers ?? 0),
    });
  }
  return states;
}

function pairsToObject(row: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < row.length; i += 2) out[String(row[i])] = row[i + 1];
  return out;
}

/**
 * Waits (up to `timeoutMs`) until no consumer group holds a message that would not be handled:
 * every group exists, and every pending entry is either fresh or about to be reclaimed — a live
 * consumer touches what it handles and takes over what idles beyond the claim time, so an entry
 * idle for three claim times, or delivered more often than the poison limit, is stuck.
 */
export async function stuckMessages(redis: Redis, keys: KeyLayout, claimIdleMs: number, maxDeliveries: number, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await groupStates(redis, keys);
    const problems: string[] = [];
    for (const state of states) {
      if (!state.exists) {
        problems.push(`${state.service}: consumer group missing`);
        continue;
      }
      for (const entry of state.pending) {
        if (entry.idleMs > claimIdleMs * 3 + 1_000)
          problems.push(`${state.service}: ${entry.id} pending at ${entry.consumer}, idle ${entry.idleMs} ms, ${entry.deliveries} deliveries`);
        else if (entry.deliveries > maxDeliveries) problems.push(`${state.service}: ${entry.id} delivered ${entry.deliveries} times (limit ${maxDeliveries})`);
      }
    }
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await sleep(500);
  }
}

export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

/** A whole (small) stream as objects; values over 200 characters are cut, to keep reports readable. */
export async function readStream(redis: Redis, stream: string, keepFull = false): Promise<StreamEntry[]> {
  const out: StreamEntry[] = [];
  let start = '-';
  for (;;) {
    const entries = (await redis.xrange(stream, start, '+', 'COUNT', 1_000)) as [string, string[]][];
    for (const [id, list] of entries) {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < list.length; i += 2)
        fields[list[i]] = keepFull || list[i + 1].length <= 200 ? list[i + 1] : `${list[i + 1].slice(0, 200)}…(${list[i + 1].length} chars)`;
      out.push({ id, fields });
    }
    if (entries.length < 1_000) break;
    start = `(${entries[entries.length - 1][0]}`;
  }
  return out;
}

export interface OutcomeOptions {
  /** How long the missions may take to finish. Default 120 s. */
  timeoutMs?: number;
  claimIdleMs?: number;
  maxDeliveries?: number;
  /** Expected end per mission; a mission meant to succeed that was dead-lettered is allowed only after a fault-caused failure. */
  expected?: Map<string, ExpectedEnd>;
  /** Poison entries that are expected (scenario 4); any other poison entry is a violation. */
  allowPoison?: boolean;
  /** Rejected submissions are expected (scenario 4). */
  allowRejected?: boolean;
  /** How long the consumer groups get to settle after the last mission finished. */
  settleMs?: number;
  /** Missions the test created on purpose besides `ids` (they may be in the log). */
  alsoInLog?: readonly string[];
}

export interface OutcomeStats {
  missions: number;
  byStatus: Record<string, number>;
  finishMs: number;
  events: number;
  attempts: number;
  /** MissionQueued with reason retry. */
  retries: number;
  /** MissionFailed events, by error text (first 80 characters). */
  failures: Record<string, number>;
  failedEvaluations: number;
  /** Meant to succeed, dead-lettered after a fault-caused failure. */
  deadLetteredByFaults: number;
  poison: Record<string, number>;
  rejected: number;
  leaseExpiries: number;
  pendingAtEnd: number;
}

export interface OutcomeReport {
  violations: string[];
  stats: OutcomeStats;
  unfinished: { id: string; status: string }[];
}

/**
 * The guarantees every fault scenario must keep, checked on `ids` (the acknowledged submissions):
 * all finished within the timeout; each is in the read model and the index; its history has
 * versions 1..n, one MissionCreated, at most one passing evaluation and never two live
 * assignments; the queue invariant holds; every agent slot is free again; no consumer group is
 * missing or holds a message nobody will handle; and no legitimate message was poisoned.
 */
export async function checkOutcome(redis: Redis, keys: KeyLayout, ids: readonly string[], options: OutcomeOptions = {}): Promise<OutcomeReport> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const violations: string[] = [];
  const claimIdleMs = options.claimIdleMs ?? 1_500;
  const maxDeliveries = options.maxDeliveries ?? 5;

  const wait = await waitForFinished(redis, keys, ids, timeoutMs);
  if (!wait.finished) {
    const byStatus = countBy(wait.unfinished.map((u) => u.status));
    violations.push(
      `${wait.unfinished.length} of ${ids.length} missions not finished after ${timeoutMs} ms: ${JSON.stringify(byStatus)}; e.g. ${wait.unfinished
        .slice(0, 5)
        .map((u) => `${u.id} (${u.status})`)
        .join(', ')}`,
    );
  }

  // Let the streams settle (late duplicates, acks) before judging the final state.
  const stuck = await stuckMessages(redis, keys, claimIdleMs, maxDeliveries, options.settleMs ?? 8_000);
  violations.push(...stuck.slice(0, 20).map((s) => `stuck message: ${s}`));
  if (stuck.length > 20) violations.push(`… ${stuck.length - 20} more stuck messages`);

  const idSet = new Set(ids);
  const statuses = await readStatuses(redis, keys, ids);
  const versions: (number | null)[] = [];
  const indexed: (string | null)[] = [];
  for (let i = 0; i < ids.length; i += PIPELINE_CHUNK) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + PIPELINE_CHUNK)) {
      pipeline.hget(keys.mission(id), 'v');
      pipeline.zscore(keys.partitions[0].missionIndex, id);
    }
    const replies = (await pipeline.exec()) ?? [];
    for (let j = 0; j < replies.length; j += 2) {
      versions.push(replies[j][1] === null ? null : Number(replies[j][1]));
      indexed.push(replies[j + 1][1] as string | null);
    }
  }
  const missing = ids.filter((_, i) => statuses[i] === null);
  if (missing.length) violations.push(`${missing.length} acknowledged missions missing from the read model, e.g. ${missing.slice(0, 5).join(', ')}`);
  const unindexed = ids.filter((_, i) => statuses[i] !== null && indexed[i] === null);
  if (unindexed.length) violations.push(`${unindexed.length} missions not in the mission index, e.g. ${unindexed.slice(0, 5).join(', ')}`);

  const histories = await readHistories(redis, keys);
  const historyProblems: string[] = [];
  let events = 0;
  let attempts = 0;
  let retries = 0;
  let failedEvaluations = 0;
  let deadLetteredByFaults = 0;
  const failures: Record<string, number> = {};
  ids.forEach((id, i) => {
    const history = histories.get(id) ?? [];
    events += history.length;
    if (statuses[i] !== null) historyProblems.push(...historyViolations(id, history, statuses[i], versions[i]));
    let faultFailures = 0;
    for (const event of history) {
      if (event.type === 'MissionAssigned') attempts++;
      if (event.type === 'MissionQueued' && (event.data as { reason?: string }).reason === 'retry') retries++;
      if (event.type === 'MissionEvaluated' && !(event.data as { passed?: boolean }).passed) failedEvaluations++;
      if (event.type === 'MissionFailed') {
        faultFailures++;
        const error = String((event.data as { error?: string }).error ?? '').slice(0, 80);
        failures[error] = (failures[error] ?? 0) + 1;
      }
    }
    const expected = options.expected?.get(id);
    if (expected === 'succeeded' && statuses[i] === 'dead_lettered') {
      if (faultFailures > 0) deadLetteredByFaults++;
      else historyProblems.push(`${id}: meant to succeed but dead-lettered without any failed execution (only failed evaluations)`);
    }
  });
  violations.push(...historyProblems.slice(0, 30));
  if (historyProblems.length > 30) violations.push(`… ${historyProblems.length - 30} more history problems`);
  const known = new Set(options.alsoInLog ?? []);
  const strangers = [...histories.keys()].filter((id) => !idSet.has(id) && !known.has(id));
  if (strangers.length)
    violations.push(`${strangers.length} missions in the log that were never acknowledged to the submitter, e.g. ${strangers.slice(0, 3).join(', ')}`);

  const queue = await queueInvariantViolations(redis, keys);
  violations.push(...queue.slice(0, 20).map((v) => `queue invariant: ${v}`));

  // Slots come back through the orchestrator after each attempt's last event: give them a moment.
  const loads = await waitFor(
    async () => {
      const current = await redis.hgetall(keys.agentLoad);
      return Object.values(current).every((load) => Number(load) === 0) ? current : null;
    },
    { timeoutMs: 15_000, what: 'agent loads back to 0' },
  ).catch(() => redis.hgetall(keys.agentLoad));
  const busy = Object.entries(loads).filter(([, load]) => Number(load) !== 0);
  if (busy.length) violations.push(`agent loads not back to 0: ${busy.map(([agent, load]) => `${agent}=${load}`).join(', ')}`);
  if (Object.keys(loads).length === 0) violations.push('no agent loads at all (agents never seeded?)');

  const counted = countBy(statuses.map((s) => s ?? 'missing'));
  // Missions in `known` that were also acknowledged are counted once, with the acknowledged ones.
  const knownOnly = [...known].filter((id) => !idSet.has(id));
  const everyStatus = countBy([...statuses, ...(await readStatuses(redis, keys, knownOnly))].filter((s): s is string => s !== null));
  const statusCounts = await redis.hgetall(keys.partitions[0].statusCounts);
  for (const status of new Set([...Object.keys(statusCounts), ...Object.keys(everyStatus)])) {
    const count = Number(statusCounts[status] ?? 0);
    if (count !== (everyStatus[status] ?? 0)) violations.push(`status counter ${status}=${count} but ${everyStatus[status] ?? 0} missions have that status`);
  }

  const poison: Record<string, number> = {};
  for (const service of SERVICES) {
    const length = await redis.xlen(keys.partitions[0].poison(service));
    if (length > 0) poison[service] = length;
  }
  const rejected = await redis.xlen(keys.partitions[0].rejectedSubmissions);
  if (!options.allowPoison) {
    for (const [service, length] of Object.entries(poison)) {
      const sample = (await readStream(redis, keys.partitions[0].poison(service as Service)))
        .slice(0, 3)
        .map((e) => `${e.fields.reason} [${e.fields.pattern}]`);
      violations.push(`${length} legitimate messages poisoned on ${service}: ${sample.join(' | ')}`);
    }
  }
  if (!options.allowRejected && rejected > 0) violations.push(`${rejected} legitimate submissions rejected`);

  const counters = await redis.hgetall(keys.partitions[0].counters);
  const pendingAtEnd = (await groupStates(redis, keys)).reduce((n, g) => n + g.pending.length, 0);
  return {
    violations,
    unfinished: wait.unfinished,
    stats: {
      missions: ids.length,
      byStatus: counted,
      finishMs: wait.ms,
      events,
      attempts,
      retries,
      failures,
      failedEvaluations,
      deadLetteredByFaults,
      poison,
      rejected,
      leaseExpiries: Number(counters.leaseExpired ?? 0),
      pendingAtEnd,
    },
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values) out[value] = (out[value] ?? 0) + 1;
  return out;
}

/** Missions by status from the status counters (one HGETALL): cheap progress for timing a fault. */
export async function statusCounts(redis: Redis, keys: KeyLayout): Promise<Record<string, number>> {
  const raw = await redis.hgetall(keys.partitions[0].statusCounts);
  return Object.fromEntries(Object.entries(raw).map(([status, count]) => [status, Number(count)]));
}

/** Missions that are neither finished nor waiting in the ready queue: somebody is working on them. */
export async function missionsInFlight(redis: Redis, keys: KeyLayout): Promise<number> {
  const counts = await statusCounts(redis, keys);
  return (counts.assigned ?? 0) + (counts.running ?? 0) + (counts.evaluating ?? 0);
}

/** What "busy" means per service, by the status counters: work that this service is handling right now. */
const BUSY: Record<Service, (c: Record<string, number>) => number> = {
  intake: (c) => (c.queued ?? 0) + (c.assigned ?? 0),
  orchestrator: (c) => c.queued ?? 0,
  executor: (c) => c.running ?? 0,
  evaluator: (c) => c.evaluating ?? 0,
};

/**
 * Mock calls take MOCK_LLM_LATENCY_MS (5 ms): a few running missions make it likely that a kill
 * of the executor lands inside one.
 */
const BUSY_ENOUGH: Record<Service, number> = { intake: 1, orchestrator: 1, executor: 3, evaluator: 3 };

/** Waits (at most `timeoutMs`) until `service` has work in hand; returns how much (what it has at the timeout). */
export async function waitBusy(redis: Redis, keys: KeyLayout, service: Service, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = BUSY[service](await statusCounts(redis, keys));
    if (busy >= BUSY_ENOUGH[service] || Date.now() > deadline) return busy;
    await sleep(20);
  }
}
