import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import request from 'supertest';
import { DAILY_REPORT, projectionLag } from '@app/projections';
import { waitFor } from '@app/testing';
import { WEBHOOK_OUTBOX } from '@app/webhooks';
import { FORGED_CURSORS } from '../support/forged-cursors';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';
import { stateSnapshot } from '../support/state-snapshot';

type Json = { [key: string]: unknown };
type Schema = Json & { $ref?: string; properties?: Record<string, Schema>; enum?: unknown[]; example?: unknown; type?: string; items?: Schema };

interface Operation {
  method: 'get' | 'post' | 'patch';
  template: string;
  query: { name: string; schema: Schema }[];
  body?: Schema;
}

interface GeneratedRequest {
  method: Operation['method'];
  template: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const RUNS = 300;
/** Times the API must refuse: ISO 8601 forms Date.parse cannot read, impossible or out-of-range ones, words. */
const BAD_TIMES = ['2009-W53-7', '2026-05-01T10:00:00,5Z', '2026-100', '2026-02-30', '+275760-09-14T00:00:00Z', 'yesterday', ''];
const JUNK = ['1e21', '-1', 'NaN', '1.5', '%00', '../x', 'null', '[]', '{}', ' '];
const TIME_PARAMS = new Set(['createdFrom', 'createdTo', 'at', 'from', 'to', 'deadLetteredBefore', 'deadline']);

/** `value` once in `times` draws, else undefined. */
const rarely = <T>(value: fc.Arbitrary<T>, times: number) =>
  fc.oneof({ weight: times - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });

describe('requests generated from the OpenAPI document (property, in-process system)', () => {
  let system: InProcessSystem;
  let document: Json;
  let missionId: string;
  let issuedCursor: string;

  const resolve = (schema: Schema): Schema => {
    if (!schema.$ref) return schema;
    const name = schema.$ref.split('/').pop() as string;
    return ((document.components as Json).schemas as Record<string, Schema>)[name];
  };

  /** A value for a documented field: mostly a plausible one (its example or enum), sometimes anything. */
  function valueFor(name: string, raw: Schema, depth = 0): fc.Arbitrary<unknown> {
    const schema = resolve(raw);
    const plausible: fc.Arbitrary<unknown>[] = [];
    if (schema.enum) plausible.push(fc.constantFrom(...schema.enum));
    if (schema.example !== undefined) plausible.push(fc.constant(schema.example));
    if (schema.properties && depth < 3) plausible.push(objectFor(schema, depth + 1));
    if (TIME_PARAMS.has(name))
      plausible.push(
        fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
      );
    if (schema.type === 'integer' || schema.type === 'number') {
      const [min, max] = [schema.minimum, schema.maximum].map((bound) => (typeof bound === 'number' ? bound : undefined));
      plausible.push(fc.integer({ min: min ?? -5, max: max ?? 2_000 }));
    }
    if (schema.type === 'string') plausible.push(fc.string({ maxLength: 40 }));
    const odd = TIME_PARAMS.has(name) ? fc.constantFrom<unknown>(...BAD_TIMES) : fc.jsonValue({ maxDepth: 2 });
    // Times are where Date.parse and the validator disagreed, so they get bad values more often.
    const oddWeight = TIME_PARAMS.has(name) ? 4 : 1;
    return plausible.length > 0 ? fc.oneof({ weight: 12, arbitrary: fc.oneof(...plausible) }, { weight: oddWeight, arbitrary: odd }) : odd;
  }

  /** Required fields are nearly always there, optional ones half of the time, and now and then a field the schema does not know. */
  function objectFor(schema: Schema, depth = 0): fc.Arbitrary<Json> {
    const required = new Set((schema.required ?? []) as string[]);
    const fields = Object.entries(schema.properties ?? {}).map(
      ([name, property]) => [name, fc.option(valueFor(name, property, depth), { nil: undefined, freq: required.has(name) ? 30 : 2 })] as const,
    );
    const extra = rarely(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })), 20);
    return fc
      .tuple(fc.record(Object.fromEntries(fields)), extra)
      .map(([body, unknown]) =>
        Object.fromEntries(Object.entries({ ...body, ...(unknown ? { [unknown[0]]: unknown[1] } : {}) }).filter(([, value]) => value !== undefined)),
      );
  }

  function queryValue(name: string, schema: Schema): fc.Arbitrary<string> {
    if (name === 'cursor') {
      return fc.oneof(
        { weight: 1, arbitrary: fc.constant(issuedCursor) },
        {
          weight: 3,
          arbitrary: fc.constantFrom(...Object.values(FORGED_CURSORS)),
        },
        { weight: 1, arbitrary: fc.base64String({ maxLength: 40 }) },
      );
    }
    return fc.oneof(
      { weight: 10, arbitrary: valueFor(name, schema).map((value) => (typeof value === 'string' ? value : JSON.stringify(value))) },
      { weight: 1, arbitrary: fc.constantFrom(...JUNK) },
    );
  }

  function idFor(template: string): fc.Arbitrary<string> {
    const plausible = template.startsWith('/api/agents')
      ? fc.constantFrom('agent-lena', 'agent-nobody', 'agent-mila')
      : fc.oneof(fc.constant(missionId), fc.uuid());
    return fc.oneof(
      { weight: 4, arbitrary: plausible },
      { weight: 1, arbitrary: fc.constantFrom(`${missionId}:events`, `${missionId}:state`, missionId.toUpperCase(), 'nope', 'Agent Lena') },
      { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
    );
  }

  function requestFor(operation: Operation): fc.Arbitrary<GeneratedRequest> {
    const query = fc.record(
      Object.fromEntries(operation.query.map(({ name, schema }) => [name, fc.option(queryValue(name, schema), { nil: undefined, freq: 2 })])),
    );
    const unknownParam = rarely(fc.constantFrom('owner=me', 'limit=1&limit=2', 'status[]=queued'), 15);
    const body = operation.body
      ? fc.oneof(
          { weight: 6, arbitrary: objectFor(resolve(operation.body)).map((value) => ({ raw: JSON.stringify(value), gzip: false })) },
          { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => ({ raw: JSON.stringify(value) ?? 'null', gzip: false })) },
          { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((raw) => ({ raw, gzip: false })) },
          { weight: 1, arbitrary: objectFor(resolve(operation.body)).map((value) => ({ raw: JSON.stringify(value), gzip: true })) },
        )
      : fc.constant(undefined);
    const auth = fc.oneof(
      { weight: 8, arbitrary: fc.constant<Record<string, string>>({ Authorization: `Bearer ${TEST_KEYS.operator}` }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<Record<string, string>>(
          { 'X-API-Key': TEST_KEYS.reader },
          { Authorization: `Bearer ${TEST_KEYS.submitter}` },
          {},
          { Authorization: TEST_KEYS.operator },
        ),
      },
    );
    return fc
      .record({ id: idFor(operation.template), query, unknownParam, body, auth })
      .map(({ id, query: params, unknownParam: extra, body: sent, auth: headers }) => {
        const search = Object.entries(params)
          .filter((entry): entry is [string, string] => entry[1] !== undefined)
          .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
        if (extra) search.push(extra);
        const path = operation.template.replace('{id}', encodeURIComponent(id)) + (search.length ? `?${search.join('&')}` : '');
        if (!sent) return { method: operation.method, template: operation.template, path, headers };
        return {
          method: operation.method,
          template: operation.template,
          path,
          headers: { ...headers, 'Content-Type': 'application/json', ...(sent.gzip ? { 'Content-Encoding': 'gzip' } : {}) },
          body: sent.gzip ? gzipSync(sent.raw) : sent.raw,
        };
      });
  }

  /** Every key that holds state with its value (stateSnapshot): taken twice per request. */
  const snapshot = () => stateSnapshot(system);

  /** After a request that changed something: until the log's consumers (the daily report, the webhook outbox) have read it. */
  const settled = () =>
    waitFor(
      async () => {
        const lags = await Promise.all([DAILY_REPORT, WEBHOOK_OUTBOX].map((name) => projectionLag(system.redis, system.keys, name)));
        return lags.every((lag) => lag.events === 0);
      },
      { timeoutMs: 10_000, what: 'the daily report and the webhook outbox to catch up' },
    );

  beforeAll(async () => {
    // The intake's own clocks stay out of the way: a generated deadline already past would otherwise
    // get MissionOverdue between a request and the check that it changed nothing.
    system = await startInProcessSystem('e2e-openapi-fuzz', { DEADLINE_CHECK_MS: '3600000', SCHEDULE_CHECK_MS: '60000' });
    // Only the intake: nothing else moves the state while a request is judged.
    for (const service of ['orchestrator', 'executor', 'evaluator'] as const) await system.stopService(service);
    document = (await request(system.intake.getHttpServer()).get('/docs-json').expect(200)).body as Json;
    const create = { type: 'pricing', title: 'Weekend rates', description: 'Compare.', priority: 'low', payload: {} };
    missionId = (await system.api.post('/api/missions').send(create).expect(201)).body.id;
    await system.api
      .post('/api/missions')
      .send({ ...create, title: 'Second' })
      .expect(201);
    issuedCursor = (await system.api.get('/api/missions?limit=1').expect(200)).body.nextCursor;
    expect(issuedCursor).toEqual(expect.any(String));
    await settled();
  });
  afterAll(async () => system.close());

  it(`given ${RUNS} requests generated from /docs-json, then none is a 5xx and no 4xx changes the state`, async () => {
    const operations: Operation[] = Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([template, item]) =>
      (['get', 'post', 'patch'] as const).flatMap((method) => {
        const operation = item[method];
        if (!operation || !template.startsWith('/api')) return [];
        // A stream stays open, so a request would never end; test/e2e/live-stream.e2e.spec.ts covers its bad input.
        const ok = (operation.responses as Record<string, { content?: Record<string, unknown> }>)['200'];
        if (ok?.content && 'text/event-stream' in ok.content) return [];
        const parameters = (operation.parameters ?? []) as { name: string; in: string; schema: Schema }[];
        const body = (operation.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content?.['application/json']?.schema;
        return [{ method, template, query: parameters.filter((p) => p.in === 'query'), body }];
      }),
    );
    expect(operations.length).toBeGreaterThanOrEqual(14);
    const statuses = new Map<string, Set<number>>();

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations).chain(requestFor), async (generated) => {
        const before = await snapshot();
        let call = request(system.intake.getHttpServer())[generated.method](generated.path);
        for (const [name, value] of Object.entries(generated.headers)) call = call.set(name, value);
        const response = await (generated.body === undefined ? call : call.send(generated.body));
        const where = `${generated.method.toUpperCase()} ${generated.template}`;
        statuses.set(where, (statuses.get(where) ?? new Set()).add(response.status));
        expect({ request: generated.path, status: response.status < 500 }).toEqual({ request: generated.path, status: true });
        if (response.status >= 400) expect(await snapshot()).toEqual(before);
        else await settled();
      }),
      { numRuns: RUNS, endOnFailure: true },
    );

    // Not vacuous: the run reached both answers that change state and answers that refuse.
    const all = [...statuses.values()].flatMap((set) => [...set]);
    expect(all.some((status) => status < 300)).toBe(true);
    expect(all.filter((status) => status >= 400 && status < 500).length).toBeGreaterThan(RUNS / 10);
  }, 120_000);
});
