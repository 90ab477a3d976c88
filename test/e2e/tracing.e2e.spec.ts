import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SERVICE_NAMES } from '@app/messages';
import {
  deleteKeysByPrefix,
  FakeOdooServer,
  OtlpReceiver,
  OtlpReceiverOptions,
  ReceivedSpan,
  testKeyPrefix,
  testRedisConnection,
  waitFor,
  WebhookReceiver,
} from '@app/testing';
import { MISSION_FINISHED } from '@app/webhooks';
import { DEFAULT_MAPPING_FILE } from '../../apps/connector-odoo/src/odoo-mapping';
import { RunningSystem } from '../../scripts/launcher';
import { launchBuiltSystem } from '../support/launched-system';

const SECRET = 'tracing-e2e-secret-0123456789';
const headers = { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' };
const airCondition = { type: 'maintenance', title: 'AC broken in room 204', description: 'AC blows warm air', priority: 'high', payload: { room: '204' } };

/**
 * What a launched process loads, seen from inside: a preload (NODE_OPTIONS --require) that writes
 * the files in require.cache when the process exits. `packages` lists the @opentelemetry packages
 * among them, once the system has stopped.
 */
function loadedModulesProbe(name: string): { env: NodeJS.ProcessEnv; packages: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const [preload, loaded] = [join(dir, 'preload.js'), join(dir, 'loaded.json')];
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  return {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim() },
    packages: () => {
      const files = JSON.parse(readFileSync(loaded, 'utf8')) as string[];
      return [...new Set(files.flatMap((file) => /node_modules\/(@opentelemetry\/[^/]+)\//.exec(file)?.[1] ?? []))].sort();
    },
  };
}

/** Creates the air-condition mission over the API; resolves with its id once it succeeded. */
async function runMission(api: string): Promise<string> {
  const response = await fetch(`${api}/api/missions`, { method: 'POST', headers, body: JSON.stringify(airCondition) });
  expect(response.status).toBe(201);
  const missionId = ((await response.json()) as { id: string }).id;
  await waitFor(async () => ((await (await fetch(`${api}/api/missions/${missionId}`, { headers })).json()) as { status: string }).status === 'succeeded', {
    timeoutMs: 30_000,
    what: `mission ${missionId} to succeed`,
  });
  return missionId;
}

/** OTLP's span kinds, as the JSON export numbers them. */
const OTLP_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

/**
 * The services, built and launched, exporting to an OTLP/HTTP collector on loopback in this test
 * (`receiver`) when `env` names no other endpoint; the suite that calls this gets them in beforeAll
 * and loses them in afterAll. `env` is read in beforeAll, after the suite's own earlier beforeAll.
 */
function tracedSystem(
  name: string,
  env: (endpoint: string) => NodeJS.ProcessEnv,
  options: { oneProcess: boolean; output?: NodeJS.WritableStream; receiver?: OtlpReceiverOptions; stopTimeoutMs?: number },
) {
  const traced = { receiver: new OtlpReceiver(options.receiver), api: '', stop: async () => system?.stop() };
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
        ...env(endpoint),
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
  // A fake Odoo makes the launcher start the connector beside the services; a receiver on loopback takes webhooks.
  let odoo: FakeOdooServer;
  let hooks: WebhookReceiver;
  // Only the maintenance requests' rule: the fake Odoo knows a model once it has a record of it.
  let mappingFile: string;
  beforeAll(async () => {
    [odoo, hooks] = await Promise.all([FakeOdooServer.start(), WebhookReceiver.start()]);
    const mapping = JSON.parse(readFileSync(DEFAULT_MAPPING_FILE, 'utf8')) as { rules: { model: string }[] };
    mapping.rules = mapping.rules.filter((rule) => rule.model === 'maintenance.request');
    mappingFile = join(mkdtempSync(join(tmpdir(), 'tracing-odoo-')), 'mapping.json');
    writeFileSync(mappingFile, JSON.stringify(mapping));
  });
  afterAll(async () => {
    await Promise.all([odoo.close(), hooks.close()]);
  });
  const traced = tracedSystem(
    'tracing',
    () => ({
      LOG_LEVEL: 'info',
      MOCK_LLM_FLAW_RATE: '1',
      RETRY_BASE_MS: '0',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      ...odoo.connection,
      ODOO_POLL_MS: '200',
      ODOO_BACKOFF_MS: '50',
      ODOO_MAPPING_FILE: mappingFile,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    }),
    { oneProcess: false, output },
  );
  const { receiver } = traced;

  it('given a mission created over HTTP that takes two attempts, then its spans form one trace from the request to the last verdict, every parent in it', async () => {
    const missionId = await runMission(traced.api);

    // Both attempts' verdicts: the second one is the mission's last event.
    const trace = await waitFor(
      async () => {
        const assign = receiver.spans.find((span) => span.name === 'assign mission' && span.attributes['brain.mission.id'] === missionId);
        return assign ? completeTrace(receiver.spans, assign.traceId, SERVICE_NAMES) : null;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `the spans of mission ${missionId}` },
    );

    expect(receiver.refused).toEqual([]);
    expect([...new Set(trace.map((span) => span.service))].sort()).toEqual([...SERVICE_NAMES].sort());
    const byId = new Map(trace.map((span) => [span.spanId, span]));
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

  it('given a webhook subscription made and a live stream opened with a token, then no span holds the secret, the URL token or the stream token', async () => {
    const subscribed = await fetch(`${traced.api}/api/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: `${hooks.url}?token=subscription-token-4711`, eventTypes: [MISSION_FINISHED] }),
    });
    expect(subscribed.status).toBe(201);
    const { id, secret } = (await subscribed.json()) as { id: string; secret: string };
    const issued = await fetch(`${traced.api}/api/stream/tokens`, { method: 'POST', headers: { authorization: headers.authorization } });
    const { token } = (await issued.json()) as { token: string };
    const abort = new AbortController();
    const stream = await fetch(`${traced.api}/api/stream?token=${encodeURIComponent(token)}`, { signal: abort.signal });
    expect(stream.status).toBe(200);
    abort.abort();

    const serverSpan = (path: string) =>
      receiver.spans.find((span) => span.service === 'intake' && span.kind === OTLP_KIND.server && span.attributes['url.path'] === path);
    const spans = await waitFor(
      async () => {
        const create = serverSpan('/api/webhooks');
        const redisOfCreate = receiver.spans.filter((span) => span.traceId === create?.traceId && span.attributes['db.system.name'] === 'redis');
        return serverSpan('/api/stream') && redisOfCreate.some((span) => span.attributes['db.query.text'] === 'evalsha') ? receiver.spans : null;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "the spans of the subscription's create and of the stream" },
    );
    // The subscription's script ran with the secret and the URL as arguments, which the Redis spans
    // carried whole; the stream token stood in the request span's url.query.
    const attributes = JSON.stringify(spans.map((span) => span.attributes));
    expect(attributes).not.toContain(secret);
    expect(attributes).not.toContain('subscription-token-4711');
    expect(attributes).not.toContain(token);
    expect(serverSpan('/api/stream')?.attributes['url.query']).toBe('token=REDACTED');
    // The next test counts its mission's webhooks: this subscription must not add to them.
    expect((await fetch(`${traced.api}/api/webhooks/${id}`, { method: 'DELETE', headers: { authorization: headers.authorization } })).status).toBe(200);
  });

  it("given requests whose path and query hold a guest's e-mail address, then no span holds it: request spans name the route and the query's names alone", async () => {
    const address = 'zorblax.q@example.org';
    // A subject id mistyped as an address (a 400), a path no route has (a 404), a search by title (a 200).
    const asked = [
      `/api/subjects/${address}`,
      `/api/guests/${address}?email=${encodeURIComponent(address)}`,
      `/api/missions?title=${encodeURIComponent(address)}`,
    ];
    for (const path of asked) await fetch(`${traced.api}${path}`, { headers: { authorization: headers.authorization } });

    const requestSpans = () => receiver.spans.filter((span) => span.service === 'intake' && span.kind === OTLP_KIND.server);
    const [subject, unmatched, search] = await waitFor(
      async () => {
        const spans = requestSpans();
        const found = [
          spans.find((span) => span.attributes['http.route'] === '/api/subjects/:subjectId'),
          spans.find((span) => span.attributes['url.path'] === '(no route)' && span.attributes['url.query'] === 'email=REDACTED'),
          spans.find((span) => span.attributes['http.route'] === '/api/missions' && span.attributes['url.query'] === 'title=REDACTED'),
        ];
        return found.every(Boolean) && found;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the spans of the three requests' },
    );
    // url.path and url.query held the address as sent, though the API never quotes it back nor logs it.
    expect(JSON.stringify(requestSpans().map((span) => [span.name, span.attributes]))).not.toContain('example.org');
    expect(subject).toMatchObject({ name: 'GET /api/subjects/:subjectId', attributes: { 'url.path': '/api/subjects/:subjectId' } });
    expect(unmatched?.attributes['http.route']).toBeUndefined();
    expect(search?.attributes['url.path']).toBe('/api/missions');
  });

  it("given a mission taken in from Odoo and a webhook subscription, then its one trace runs from the connector's poll through the four services to the webhook delivery and the result posted back, every parent in it", async () => {
    // A token in the query, as receivers often take one: the span must not carry it.
    const subscribed = await fetch(`${traced.api}/api/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: `${hooks.url}?token=hook-token-0123`, eventTypes: [MISSION_FINISHED] }),
    });
    expect(subscribed.status).toBe(201);
    hooks.secrets = [((await subscribed.json()) as { secret: string }).secret];
    const record = odoo.create('maintenance.request', { name: 'Leaking tap in 512', description: 'Drips all night.', priority: '1', stage_id: 1 });

    const finished = await waitFor(async () => hooks.unique().find((webhook) => webhook.message.type === MISSION_FINISHED), {
      timeoutMs: 30_000,
      what: "the mission's mission.finished webhook",
    });
    const missionId = String(finished.message.data.missionId);
    expect(finished.message.data.status).toBe('succeeded');
    await waitFor(async () => odoo.messagesOf('maintenance.request', record.id).length === 1, { timeoutMs: 30_000, what: 'the result posted to Odoo' });

    const ofMission = (name: string) => receiver.spans.find((span) => span.name === name && span.attributes['brain.mission.id'] === missionId);
    const trace = await waitFor(
      async () => {
        const [delivery, posted] = [ofMission('deliver webhook'), ofMission('post odoo result')];
        if (!delivery || !posted) return null;
        return completeTrace(receiver.spans, delivery.traceId, [...SERVICE_NAMES, 'connector-odoo']);
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `the spans of mission ${missionId}` },
    );
    expect(receiver.refused).toEqual([]);
    expect([...new Set(trace.map((span) => span.service))].sort()).toEqual([...SERVICE_NAMES, 'connector-odoo'].sort());
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const [root, ...otherRoots] = trace.filter((span) => span.parentSpanId === '');
    expect(otherRoots.map(label)).toEqual([]);
    expect(label(root)).toBe('connector-odoo: poll odoo');
    expect(root.attributes['brain.odoo.submitted']).toBe(1);

    const ancestors = (span: ReceivedSpan): string[] => {
      const parent = byId.get(span.parentSpanId);
      return parent ? [...ancestors(parent), label(parent)] : [];
    };
    const [delivery, posted] = [ofMission('deliver webhook'), ofMission('post odoo result')] as ReceivedSpan[];
    // Both continue the traceparent the mission keeps: its last append's, the second verdict's.
    for (const span of [delivery, posted]) {
      expect(ancestors(span)).toEqual(
        expect.arrayContaining([
          'connector-odoo: poll odoo',
          'intake: process mission.submit',
          'orchestrator: assign mission',
          'executor: process mission.assigned',
          'evaluator: process mission.completed',
        ]),
      );
      expect(ancestors(span).filter((name) => name === 'evaluator: process mission.completed')).toHaveLength(2);
    }
    expect(delivery).toMatchObject({
      service: 'intake',
      kind: OTLP_KIND.client,
      attributes: expect.objectContaining({
        'http.request.method': 'POST',
        'url.full': `${hooks.url}?token=REDACTED`,
        'http.response.status_code': 200,
        'brain.webhook.outcome': 'delivered',
        'brain.webhook.attempt': 1,
      }),
    });
    // The delivery's request is that span alone: the http instrumentation, which would carry the raw URL, leaves it be.
    const isHttp = (span: ReceivedSpan) => span.attributes['http.request.method'] !== undefined || span.attributes['http.method'] !== undefined;
    expect(trace.filter((span) => span.parentSpanId === delivery.spanId && isHttp(span)).map(label)).toEqual([]);
    // The receiver got the delivery span's context, to continue the trace on its side.
    expect(finished.traceparent).toBe(`00-${delivery.traceId}-${delivery.spanId}-01`);
    expect(JSON.stringify(trace.map((span) => span.attributes))).not.toContain('hook-token-0123');
    expect(posted.attributes).toMatchObject({
      'brain.odoo.outcome': 'posted',
      'brain.odoo.model': 'maintenance.request',
      'brain.odoo.record.id': record.id,
    });
    // The connector's calls to Odoo (fetch) are in the trace too, under its spans.
    expect(
      trace.some((span) => span.service === 'connector-odoo' && span.kind === OTLP_KIND.client && byId.get(span.parentSpanId)?.name === 'post odoo result'),
    ).toBe(true);
  });
});

function label(span: ReceivedSpan): string {
  return `${span.service}: ${span.name}`;
}

/**
 * The spans of trace `traceId` once it is whole: a span of each of `services`, both verdicts of the
 * two-attempt mission, and every span's parent. Each process exports on its own schedule, and a
 * span after its children (it ends last), so a trace arrives in pieces: until it is whole, this
 * throws what is still missing, which waitFor reports if the trace never closes.
 */
function completeTrace(received: readonly ReceivedSpan[], traceId: string, services: readonly string[]): ReceivedSpan[] {
  const spans = received.filter((span) => span.traceId === traceId);
  const seen = new Set(spans.map((span) => span.service));
  const absentServices = services.filter((service) => !seen.has(service));
  const verdicts = spans.filter((span) => span.service === 'evaluator' && span.name === 'process mission.completed').length;
  const byId = new Set(spans.map((span) => span.spanId));
  const orphans = spans.filter((span) => span.parentSpanId !== '' && !byId.has(span.parentSpanId)).map(label);
  if (absentServices.length > 0 || verdicts !== 2 || orphans.length > 0) {
    throw new Error(
      `trace ${traceId} not whole: no span from [${absentServices.join(', ')}]; ${verdicts} of 2 verdicts; parent absent for [${orphans.join(', ')}]`,
    );
  }
  return spans;
}

describe('tracing: the services in one process, exporting OTLP/HTTP protobuf', () => {
  const probe = loadedModulesProbe('tracing-proto');
  const traced = tracedSystem('tracing-proto', () => ({ LOG_LEVEL: 'warn', ...probe.env }), { oneProcess: true });
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

    // With an endpoint the SDK, its exporter and the instrumentations are loaded (what the probe of the next suite looks for).
    await traced.stop();
    expect(probe.packages()).toEqual(
      expect.arrayContaining([
        '@opentelemetry/api',
        '@opentelemetry/sdk-trace',
        '@opentelemetry/exporter-trace-otlp-proto',
        '@opentelemetry/instrumentation-http',
      ]),
    );
  });
});

/**
 * A request refused before routing (the API key check's 401) had no route on its span, while its
 * metric had one. At debug and trace nestjs-pino's middleware runs for every request, mounted by
 * Nest as a route for every path (`/{*path}`): a request no API route took was named and timed by it.
 */
describe.each(['info', 'debug'])('tracing: request spans and metrics name the same route at LOG_LEVEL=%s', (level) => {
  const traced = tracedSystem(`tracing-${level}`, () => ({ LOG_LEVEL: level, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), { oneProcess: true });
  const { receiver } = traced;

  it('given a 404 for a path no route has and a 401 for a wrong key, then the 404 is (no route) and unmatched, the 401 is named and timed by the route that would have taken it', async () => {
    expect((await fetch(`${traced.api}/api/nothing/x?x=y`, { headers: { authorization: headers.authorization } })).status).toBe(404);
    expect((await fetch(`${traced.api}/api/missions`, { headers: { authorization: 'Bearer not-the-key-0123456789' } })).status).toBe(401);

    const spanOf = (status: number) => receiver.spans.find((span) => span.kind === OTLP_KIND.server && span.attributes['http.response.status_code'] === status);
    const [notFound, refused] = await waitFor(async () => (spanOf(404) && spanOf(401) ? [spanOf(404), spanOf(401)] : null), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'the spans of the 404 and the 401',
    });
    expect(notFound).toMatchObject({ name: 'GET', attributes: { 'url.path': '(no route)', 'url.query': 'x=REDACTED' } });
    expect(notFound?.attributes['http.route']).toBeUndefined();
    expect(refused).toMatchObject({ name: 'GET /api/missions', attributes: { 'http.route': '/api/missions', 'url.path': '/api/missions' } });

    const metrics = await (await fetch(`${traced.api}/metrics`)).text();
    const timed = [...metrics.matchAll(/^brain_http_request_duration_seconds_count\{(.*)\} \d+$/gm)].map(([, labels]) => labels);
    expect(timed).toEqual(
      expect.arrayContaining([expect.stringMatching(/route="unmatched",status="404"/), expect.stringMatching(/route="\/api\/missions",status="401"/)]),
    );
    expect(timed.filter((labels) => labels.includes('{*path}'))).toEqual([]);
  });

  // Served with a 200, they were named and timed as a path no route takes: "(no route)" and route="unmatched", beside the 404s.
  it("given the console's page and an asset of the API docs, then each is named and timed by the mount it is served from", async () => {
    for (const path of ['/console/', '/docs/swagger-ui.css']) expect((await fetch(`${traced.api}${path}`)).status).toBe(200);

    const served = (route: string) => receiver.spans.find((span) => span.kind === OTLP_KIND.server && span.attributes['http.route'] === route);
    const [page, asset] = await waitFor(async () => (served('/console') && served('/docs') ? [served('/console'), served('/docs')] : null), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "the spans of the console's page and the docs' asset",
    });
    expect(page).toMatchObject({ name: 'GET /console', attributes: { 'url.path': '/console', 'http.response.status_code': 200 } });
    expect(asset).toMatchObject({ name: 'GET /docs', attributes: { 'url.path': '/docs', 'http.response.status_code': 200 } });
    const metrics = await (await fetch(`${traced.api}/metrics`)).text();
    expect(metrics).toMatch(/^brain_http_request_duration_seconds_count\{.*route="\/console",status="200"\} \d+$/m);
    expect(metrics).toMatch(/^brain_http_request_duration_seconds_count\{.*route="\/docs",status="200"\} \d+$/m);
    expect(metrics).not.toMatch(/route="unmatched",status="200"/);
  });
});

describe('tracing off: without an endpoint the services load nothing of OpenTelemetry but its API', () => {
  const probe = loadedModulesProbe('tracing-off');
  const traced = tracedSystem('tracing-off', () => ({ LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_ENDPOINT: '', ...probe.env }), { oneProcess: true });
  const { receiver } = traced;

  it('given the four services in one process without OTEL_EXPORTER_OTLP_ENDPOINT, when a mission runs, then only @opentelemetry/api was loaded, and nothing was exported', async () => {
    await runMission(traced.api);
    await traced.stop();
    // The API is ~2 MB and its calls are no-ops without the SDK; the SDK, exporters and instrumentations were 10–35 MB of peak RSS.
    expect(probe.packages()).toEqual(['@opentelemetry/api']);
    expect(receiver.spans).toEqual([]);
    expect(receiver.protobufBodies).toEqual([]);
  });
});

describe('tracing: the standard exporter settings, and a collector that never answers', () => {
  const traced = tracedSystem(
    'tracing-hang',
    (endpoint) => ({
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/collector/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=e2e,service.namespace=hotel%20seeblick',
      // An export waits this long for the collector's answer, and a batch as long: far past the shutdown's flush.
      OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
      OTEL_BSP_EXPORT_TIMEOUT: '60000',
      // Each process' first batch of 5 goes at once and hangs; the rest wait in its queue (one export at a time) for the last flush.
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5',
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    }),
    // Four processes: the one process has a close bound of its own (9 s), which would hide a service's.
    { oneProcess: false, receiver: { path: '/collector/traces', answers: false }, stopTimeoutMs: 90_000 },
  );
  const { receiver } = traced;

  it('given the traces URL, resource attributes and a collector that takes exports but never answers, then spans reach that URL with the attributes, and the services stop within the flush bound', async () => {
    const response = await fetch(`${traced.api}/api/missions`, { method: 'POST', headers, body: JSON.stringify(airCondition) });
    expect(response.status).toBe(201);
    const [span] = await waitFor(async () => (receiver.spans.length > 0 ? receiver.spans : null), {
      timeoutMs: 30_000,
      what: 'a first export at the traces URL as given',
    });
    expect(span.resource).toMatchObject({ 'deployment.environment': 'e2e', 'service.namespace': 'hotel seeblick' });
    // One batch of at most 5 from each process, whose next waits for that one's answer.
    const perService = new Map<string, number>();
    for (const { service } of receiver.spans) perService.set(service, (perService.get(service) ?? 0) + 1);
    expect(Math.max(...perService.values())).toBeLessThanOrEqual(5);
    expect(receiver.refused).toEqual([]);

    // That export is still waiting for its answer, and the other spans for theirs: the last flush
    // gives up after its 2 s, not the batch's 60 s.
    const stopping = Date.now();
    await traced.stop();
    expect(Date.now() - stopping).toBeLessThan(20_000);
  });
});
