import { Writable } from 'node:stream';
import { SERVICE_NAMES } from '@app/messages';
import { deleteKeysByPrefix, OtlpReceiver, ReceivedSpan, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { RunningSystem } from '../../scripts/launcher';
import { launchBuiltSystem } from '../support/launched-system';

const SECRET = 'tracing-e2e-secret-0123456789';
const headers = { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' };
const airCondition = { type: 'maintenance', title: 'AC broken in room 204', description: 'AC blows warm air', priority: 'high', payload: { room: '204' } };

/**
 * The services, built and launched, exporting to an OTLP/HTTP collector on loopback in this test
 * (`receiver`); the suite that calls this gets them in beforeAll and loses them in afterAll.
 */
function tracedSystem(name: string, env: NodeJS.ProcessEnv, options: { oneProcess: boolean; output?: NodeJS.WritableStream }) {
  const traced = { receiver: new OtlpReceiver(), api: '' };
  const prefix = testKeyPrefix(name);
  const redis = testRedisConnection(`${name}-spec`);
  let system: RunningSystem | undefined;

  beforeAll(async () => {
    const endpoint = await traced.receiver.start();
    const launched = await launchBuiltSystem(
      {
        KEY_PREFIX: prefix,
        API_KEYS: `ops:${SECRET}:operator`,
        LOG_FORMAT: 'json',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        // The SDK's batch delay (default 5 s), so the spans arrive while the test waits.
        OTEL_BSP_SCHEDULE_DELAY: '200',
        ...env,
      },
      options,
    );
    system = launched.system;
    traced.api = launched.api;
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
    await traced.receiver.stop();
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  return traced;
}

/**
 * The services as four processes, as `npm start -- --split` and compose run them, exporting
 * OTLP/HTTP with JSON bodies to a collector on loopback in this test: the instrumentation is
 * loaded the way each main.ts loads it, before http and ioredis.
 */
describe('tracing: one mission is one trace across the four services', () => {
  const logLines: Record<string, unknown>[] = [];
  let partial = '';
  const output = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const json = line.slice(line.indexOf('| ') + 2);
        if (json.startsWith('{')) logLines.push(JSON.parse(json) as Record<string, unknown>);
      }
      callback();
    },
  });
  // Every first draft misses a rubric point, so the mission fails its first evaluation and passes
  // its second, with the evaluator's feedback; the retry is queued at once (no backoff).
  const traced = tracedSystem(
    'tracing',
    { LOG_LEVEL: 'info', MOCK_LLM_FLAW_RATE: '1', RETRY_BASE_MS: '0', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    { oneProcess: false, output },
  );
  const { receiver } = traced;

  it('given a mission created over HTTP that takes two attempts, then its spans form one trace from the request to the last verdict, every parent in it', async () => {
    const response = await fetch(`${traced.api}/api/missions`, { method: 'POST', headers, body: JSON.stringify(airCondition) });
    expect(response.status).toBe(201);
    const missionId = ((await response.json()) as { id: string }).id;
    await waitFor(
      async () => ((await (await fetch(`${traced.api}/api/missions/${missionId}`, { headers })).json()) as { status: string }).status === 'succeeded',
      {
        timeoutMs: 30_000,
        what: `mission ${missionId} to succeed`,
      },
    );

    // Both attempts' verdicts: the second one is the mission's last event.
    const trace = await waitFor(
      async () => {
        const assign = receiver.spans.find((span) => span.name === 'assign mission' && span.attributes['brain.mission.id'] === missionId);
        const spans = assign ? receiver.spans.filter((span) => span.traceId === assign.traceId) : [];
        return spans.filter((span) => span.service === 'evaluator' && span.name === 'process mission.completed').length === 2 ? spans : null;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `the spans of mission ${missionId}` },
    );

    expect(receiver.refused).toEqual([]);
    expect([...new Set(trace.map((span) => span.service))].sort()).toEqual([...SERVICE_NAMES].sort());
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    expect(trace.filter((span) => span.parentSpanId !== '' && !byId.has(span.parentSpanId)).map(label)).toEqual([]);
    const [root, ...otherRoots] = trace.filter((span) => span.parentSpanId === '');
    expect(otherRoots.map(label)).toEqual([]);
    expect(label(root)).toMatch(/^intake: POST/);
    // Each span that appended to the mission names it: the request, and every message span after it.
    expect(root.attributes['brain.mission.id']).toBe(missionId);
    expect(trace.filter((span) => span.name === 'process mission.completed').map((span) => span.attributes['brain.mission.id'])).toEqual([
      missionId,
      missionId,
    ]);

    const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
      const parent = byId.get(span.parentSpanId);
      return parent ? [...ancestors(parent), parent] : [];
    };
    const [first, second] = trace.filter((span) => span.name === 'process mission.completed').sort((a, b) => ancestors(a).length - ancestors(b).length);
    // The second attempt descends from the first verdict, which queued it.
    expect(ancestors(second).map((span) => span.spanId)).toContain(first.spanId);
    expect(ancestors(second).map(label)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^intake: POST/),
        'orchestrator: assign mission',
        'executor: process mission.assigned',
        'evaluator: process mission.completed',
      ]),
    );
    expect(trace.filter((span) => span.name === 'chat mock-hotel-1' && span.service === 'executor')).toHaveLength(2);
    // ioredis instrumentation: the commands of that work are in the trace too.
    expect(trace.some((span) => span.attributes['db.system'] === 'redis' || span.attributes['db.system.name'] === 'redis')).toBe(true);

    // Every log line about the mission names its trace.
    const aboutMission = logLines.filter((line) => line.missionId === missionId);
    expect(aboutMission.length).toBeGreaterThan(0);
    expect(aboutMission.map((line) => line.trace_id)).toEqual(aboutMission.map(() => root.traceId));
  });
});

function label(span: ReceivedSpan): string {
  return `${span.service}: ${span.name}`;
}

describe('tracing: the services in one process, exporting OTLP/HTTP protobuf', () => {
  const traced = tracedSystem('tracing-proto', { LOG_LEVEL: 'warn' }, { oneProcess: true });
  const { receiver } = traced;

  it('given a mission, then protobuf exports (the default protocol) carry the HTTP spans of the process and the spans of each service', async () => {
    const response = await fetch(`${traced.api}/api/missions`, { method: 'POST', headers, body: JSON.stringify(airCondition) });
    expect(response.status).toBe(201);
    const exported = () => Buffer.concat(receiver.protobufBodies);
    // Protobuf strings are their UTF-8 bytes: the names of the resources and spans show in the bodies.
    // The API's HTTP spans are the process' (the intake has no span of its own for a REST create).
    const expected = [
      'one-process',
      'POST',
      'orchestrator',
      'assign mission',
      'executor',
      'process mission.assigned',
      'evaluator',
      'process mission.completed',
    ];
    await waitFor(
      async () => {
        const missing = expected.filter((text) => !exported().includes(text));
        if (missing.length > 0) throw new Error(`not exported yet: ${missing.join(', ')}`);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'protobuf exports with every service' },
    );
    expect(receiver.refused).toEqual([]);
    expect(receiver.spans).toEqual([]);
  });
});
