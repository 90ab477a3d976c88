import { randomUUID } from 'node:crypto';
import { BUILD_TIMEOUT_MS, buildOnce, missionFor, readStream, Scenario, Service, SERVICES, sleep, waitForFinished, Workload } from './support';

/** Where an injected message must end up. */
type Destination = 'poison' | 'rejected' | 'poison-or-rejected';

interface Injection {
  service: Service;
  kind: string;
  destination: Destination;
  fields: string[];
  id?: string;
}

const MB = 1024 * 1024;

/**
 * A pattern each service handles with a validated payload, so a wrong body is a validation failure
 * (the intake's one pattern, mission.submit, sends wrong bodies to its rejected stream: below).
 */
const VALIDATED_PATTERN: Record<Exclude<Service, 'intake'>, string> = {
  orchestrator: 'agent.released',
  executor: 'mission.assigned',
  evaluator: 'mission.completed',
};

function injectionsFor(service: Service, round: number): Injection[] {
  const list: Injection[] = [
    { service, kind: 'garbage fields', destination: 'poison', fields: ['foo', 'bar', 'baz', `qux-${round}`] },
    { service, kind: 'unknown pattern', destination: 'poison', fields: ['pattern', 'no.such.pattern', 'data', '{}'] },
  ];
  if (service !== 'intake') {
    const pattern = VALIDATED_PATTERN[service];
    list.push(
      { service, kind: 'no data field', destination: 'poison', fields: ['pattern', pattern] },
      { service, kind: 'invalid JSON', destination: 'poison', fields: ['pattern', pattern, 'data', '{"mission": {"id": "x", '] },
      { service, kind: 'wrong schema', destination: 'poison', fields: ['pattern', pattern, 'data', JSON.stringify({ wrong: true, round })] },
    );
    if (round === 0)
      list.push({ service, kind: '1 MB data field', destination: 'poison', fields: ['pattern', pattern, 'data', JSON.stringify({ blob: 'x'.repeat(MB) })] });
  }
  if (service === 'intake') {
    const valid = missionFor(round, 'poison').mission;
    list.push(
      { service, kind: 'submit: invalid JSON', destination: 'poison-or-rejected', fields: ['pattern', 'mission.submit', 'data', '{"mission": {"type": '] },
      { service, kind: 'submit: data not an object', destination: 'rejected', fields: ['pattern', 'mission.submit', 'data', '"please create a mission"'] },
      {
        service,
        kind: 'submit: wrong schema',
        destination: 'rejected',
        fields: ['pattern', 'mission.submit', 'data', JSON.stringify({ mission: { type: 'spa_day', title: 7 } })],
      },
      {
        service,
        kind: 'submit: unknown field',
        destination: 'rejected',
        fields: ['pattern', 'mission.submit', 'data', JSON.stringify({ mission: valid, sneaky: 1 })],
      },
      {
        service,
        kind: 'submit: prototype key',
        destination: 'rejected',
        fields: ['pattern', 'mission.submit', 'data', `{"mission": ${JSON.stringify(valid)}, "__proto__": {"admin": true}}`],
      },
    );
    if (round === 0) {
      list.push({
        service,
        kind: 'submit: 1 MB description',
        destination: 'rejected',
        fields: ['pattern', 'mission.submit', 'data', JSON.stringify({ mission: { ...valid, description: 'y'.repeat(MB) }, missionId: randomUUID() })],
      });
    }
  }
  return list;
}

/**
 * Scenario 4: while 2,000 missions run, malformed messages are XADDed straight into every
 * service's stream: garbage fields, no data, invalid JSON, a wrong schema, an unknown pattern and
 * a 1 MB data field. Each must land, with a reason and after one delivery, in that service's
 * poison stream — or, for `mission.submit` on the intake, in the rejected-submissions stream —
 * and the services must keep working.
 */
describe('fault: poison messages in every service stream', () => {
  const scenario = new Scenario('poison');
  const injections: Injection[] = [];
  /** A 1 MB mission that is valid in every other respect; the REST API would refuse it (BODY_LIMIT_BYTES). */
  const oversized = { id: randomUUID(), streamId: '' };

  beforeAll(async () => {
    buildOnce();
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(() => scenario.close(), 30_000);

  async function inject(round: number): Promise<void> {
    for (const service of SERVICES) {
      for (const injection of injectionsFor(service, round)) {
        injection.id = (await scenario.redis.xadd(scenario.keys.partitions[0].stream(service), '*', ...injection.fields)) as string;
        injections.push(injection);
      }
    }
  }

  it('given 2,000 missions, when malformed messages arrive on every stream, then each is parked with its reason and every mission finishes', async () => {
    scenario.sampleInvariants();
    const workload = new Workload(scenario.redis, scenario.prefix, { total: 2_000, batchSize: 50, intervalMs: 400, tag: 'poison' }).start();
    for (let round = 0; round < 3; round++) {
      await sleep(scenario.between(1_500, 4_000));
      await inject(round);
      scenario.note(`round ${round}: injected ${injections.length} malformed messages so far`);
    }
    const valid = missionFor(99, 'poison-oversized').mission;
    oversized.streamId = (await scenario.redis.xadd(
      scenario.keys.partitions[0].stream('intake'),
      '*',
      'pattern',
      'mission.submit',
      'data',
      JSON.stringify({ mission: { ...valid, payload: { ...valid.payload, attachment: 'z'.repeat(MB) } }, missionId: oversized.id }),
    )) as string;
    await workload.done;

    const report = await scenario.outcome(workload.ackedIds, {
      timeoutMs: 120_000,
      expected: workload.expectedOf(),
      allowPoison: true,
      allowRejected: true,
      alsoInLog: [oversized.id],
    });

    // Where did each injected message go? Entry ids are unique per stream only, so parked messages
    // are keyed by their source stream too. A message that is retried before it is parked takes
    // STREAM_MAX_DELIVERIES claim cycles: wait (up to 30 s) until every injection is accounted for.
    let poison = new Map<string, { service: Service; reason: string; deliveries: string }>();
    let rejected = new Map<string, string>();
    let misrouted: string[] = [];
    const settleStarted = Date.now();
    for (;;) {
      poison = new Map();
      misrouted = [];
      for (const service of SERVICES) {
        for (const entry of await readStream(scenario.redis, scenario.keys.partitions[0].poison(service))) {
          if (entry.fields.source !== scenario.keys.partitions[0].stream(service))
            misrouted.push(`${entry.fields.messageId} from ${entry.fields.source} in the poison stream of ${service}`);
          poison.set(`${service}:${entry.fields.messageId}`, { service, reason: entry.fields.reason ?? '', deliveries: entry.fields.deliveries ?? '' });
        }
      }
      rejected = new Map(
        (await readStream(scenario.redis, scenario.keys.partitions[0].rejectedSubmissions)).map((e) => [e.fields.messageId, e.fields.reason ?? '']),
      );
      const unaccounted = injections.filter((i) => !poison.has(`${i.service}:${i.id}`) && !(i.service === 'intake' && rejected.has(i.id ?? '')));
      if (unaccounted.length === 0 || Date.now() - settleStarted > 30_000) break;
      await sleep(500);
    }
    scenario.note(`all injected messages accounted for ${Date.now() - settleStarted} ms after the missions finished`);

    const misplaced: string[] = [];
    const where: Record<string, number> = {};
    for (const injection of injections) {
      const id = injection.id ?? '';
      const parked = poison.get(`${injection.service}:${id}`);
      const refusal = injection.service === 'intake' ? rejected.get(id) : undefined;
      const place = parked ? 'poison' : refusal !== undefined ? 'rejected' : 'nowhere';
      where[`${injection.service}/${injection.kind} → ${place}`] = (where[`${injection.service}/${injection.kind} → ${place}`] ?? 0) + 1;
      const allowed = injection.destination === 'poison-or-rejected' ? ['poison', 'rejected'] : [injection.destination];
      if (!allowed.includes(place)) misplaced.push(`${injection.service}/${injection.kind} ${id}: in ${place}, expected ${injection.destination}`);
      else if (parked && !parked.reason) misplaced.push(`${injection.service}/${injection.kind} ${id}: poisoned without a reason`);
      else if (parked && parked.deliveries !== '1')
        misplaced.push(
          `${injection.service}/${injection.kind} ${id}: poisoned only after ${parked.deliveries} deliveries (a permanent error should go at once)`,
        );
      else if (refusal !== undefined && !refusal) misplaced.push(`${injection.service}/${injection.kind} ${id}: rejected without a reason`);
    }
    const injectedIds = new Set(injections.map((i) => `${i.service}:${i.id}`));
    const legitimatePoisoned = [...poison.keys()].filter((key) => !injectedIds.has(key));
    const legitimateRejected = [...rejected.keys()].filter((id) => !injectedIds.has(`intake:${id}`) && id !== oversized.streamId);

    scenario.summarize(report, { injected: injections.length, poisoned: poison.size, rejected: rejected.size, where });
    const described = new Set<string>();
    for (const injection of injections) {
      if (described.has(`${injection.service}/${injection.kind}`)) continue;
      described.add(`${injection.service}/${injection.kind}`);
      if (injection.kind.includes('1 MB') || injection.kind === 'wrong schema' || injection.kind.startsWith('submit')) {
        const parked = poison.get(`${injection.service}:${injection.id}`);
        const refusal = injection.service === 'intake' ? rejected.get(injection.id ?? '') : undefined;
        const why = parked
          ? `poison after ${parked.deliveries} deliveries: ${parked.reason}`
          : refusal !== undefined
            ? `rejected: ${refusal}`
            : 'nowhere (yet)';
        scenario.note(`${injection.service}/${injection.kind} → ${why.slice(0, 300)}`);
      }
    }
    scenario.note(`sample rejection reason: ${[...rejected.values()][0]}`);

    // The services kept working …
    expect(workload.ackedCount).toBe(2_000);
    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
    for (const service of SERVICES) expect(await scenario.processes.isReady(service, 0)).toBe(true);
    // … nothing legitimate was parked …
    expect(legitimatePoisoned).toEqual([]);
    expect(legitimateRejected).toEqual([]);
    // … and every malformed message went where it belongs, with a reason, at its first delivery.
    expect(misrouted).toEqual([]);
    expect(misplaced).toEqual([]);
  }, 300_000);

  it('given a mission.submit of 1 MB that is otherwise valid, then it is rejected as the REST API would refuse the body (BODY_LIMIT_BYTES), not created', async () => {
    expect(oversized.streamId).not.toBe('');
    const rejected = (await readStream(scenario.redis, scenario.keys.partitions[0].rejectedSubmissions)).find((e) => e.fields.messageId === oversized.streamId);
    const created = await waitForFinished(scenario.redis, scenario.keys, [oversized.id], 100);
    const status = await scenario.redis.hget(scenario.keys.mission(oversized.id), 'st');
    scenario.note(
      `1 MB submission ${oversized.streamId}: rejected=${rejected ? rejected.fields.reason : 'no'}, mission status=${status ?? 'none'} (finished: ${created.finished})`,
    );
    expect({ rejected: Boolean(rejected), created: status !== null }).toEqual({ rejected: true, created: false });
  }, 30_000);
});
