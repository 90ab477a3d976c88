import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { queueInvariantViolations } from '../../support/queue-invariant';

/**
 * One atomic picture of agent slots: the missions that hold an agent by their own state (the rule
 * of heldAgent in libs/mission/src/agent-hold.ts: assigned/running without a recorded failure, or
 * evaluating before the verdict of the current attempt) without a hold for that attempt, and per
 * agent the holds, the load counter and the capacity. A hold may exist without a holding mission
 * for a moment (claimed before the assignment is appended, released after the attempt's end).
 */
const SLOT_SNAPSHOT = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local unheld = {}
for _, id in ipairs(ids) do
  local st = redis.call('HGET', ARGV[1] .. id, 'st')
  if st == 'assigned' or st == 'running' or st == 'evaluating' then
    local m = cjson.decode(redis.call('HGET', ARGV[1] .. id, 's'))
    local agent = m.assignedAgentId
    if type(agent) == 'string' then
      local holds = true
      if st ~= 'evaluating' and type(m.lastError) == 'string' then holds = false end
      if st == 'evaluating' and type(m.evaluation) == 'table' and m.evaluation.attempt == m.attempts then holds = false end
      if holds and redis.call('HEXISTS', KEYS[4], id .. ':' .. m.attempts .. ':' .. agent) == 0 then
        unheld[#unheld + 1] = id .. ' (attempt ' .. m.attempts .. ' on ' .. agent .. ')'
      end
    end
  end
end
local perAgent = {}
for _, json in ipairs(redis.call('HVALS', KEYS[4])) do
  local agent = cjson.decode(json).agentId
  perAgent[agent] = (perAgent[agent] or 0) + 1
end
local flat = {}
for agent, count in pairs(perAgent) do
  flat[#flat + 1] = agent
  flat[#flat + 1] = tostring(count)
end
return { unheld, flat, redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]) }
`;

function toMap(flat: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i], Number(flat[i + 1]));
  return map;
}

/** Missions holding an agent without a hold, agents whose load counter differs from their holds, or over capacity. */
export async function agentSlotViolations(redis: Redis, keys: KeyLayout): Promise<string[]> {
  const [unheld, holdsFlat, loadFlat, capacityFlat] = (await redis.eval(
    SLOT_SNAPSHOT,
    4,
    keys.partitions[0].missionIndex,
    keys.agentLoad,
    keys.agentCapacity,
    keys.agentHolds,
    keys.partitions[0].missionPrefix,
  )) as [string[], string[], string[], string[]];
  const holds = toMap(holdsFlat);
  const load = toMap(loadFlat);
  const capacity = toMap(capacityFlat);
  const problems = unheld.map((mission) => `mission ${mission} holds an agent without a slot claimed`);
  for (const agent of new Set([...holds.keys(), ...load.keys()])) {
    const h = holds.get(agent) ?? 0;
    const l = load.get(agent) ?? 0;
    const c = capacity.get(agent) ?? 0;
    if (l !== h) problems.push(`agent ${agent}: load counter ${l} but ${h} holds`);
    if (l > c) problems.push(`agent ${agent}: over capacity (load ${l}, capacity ${c})`);
  }
  return problems;
}

/**
 * Checks the queue invariant and the agent slot accounting every `everyMs` while a scenario runs
 * (each check is one atomic script), and keeps the first occurrence of each problem.
 */
export class InvariantSampler {
  readonly problems: string[] = [];
  samples = 0;
  errors = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly seen = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
    private readonly everyMs = 1_000,
  ) {}

  start(): this {
    this.running = this.sample();
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.sample());
    }, this.everyMs);
    return this;
  }

  async stop(): Promise<string[]> {
    clearInterval(this.timer);
    await this.running;
    return this.problems;
  }

  private async sample(): Promise<void> {
    try {
      const found = [
        ...(await queueInvariantViolations(this.redis, this.keys)).map((v) => `queue invariant: ${v}`),
        ...(await agentSlotViolations(this.redis, this.keys)),
      ];
      this.samples++;
      for (const problem of found) {
        const key = problem.replace(/\d+/g, '#');
        if (this.seen.has(key) || this.problems.length >= 20) continue;
        this.seen.add(key);
        this.problems.push(`at sample ${this.samples}: ${problem}`);
      }
    } catch {
      // Redis may be down on purpose (scenario 3); a missed sample is not a finding.
      this.errors++;
    }
  }
}
