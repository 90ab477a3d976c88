import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@nestjs/common';
import { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';
import { AgentsController } from '../../apps/intake/src/agents/agents.controller';
import { defaultRole, OPEN_TO_CLIENTS, REQUIRED_ROLE, Role } from '../../apps/intake/src/auth';
import { CallerController } from '../../apps/intake/src/console/caller.controller';
import { MissionChainController } from '../../apps/intake/src/console/mission-chain.controller';
import { ThroughputController } from '../../apps/intake/src/console/throughput.controller';
import { DeadLettersController } from '../../apps/intake/src/dead-letters/dead-letters.controller';
import { MissionsController } from '../../apps/intake/src/missions/missions.controller';
import { ReportsController } from '../../apps/intake/src/reports/reports.controller';
import { RetentionController } from '../../apps/intake/src/retention/retention.controller';
import { ReviewsController } from '../../apps/intake/src/reviews/reviews.controller';
import { SchedulesController } from '../../apps/intake/src/schedules/schedules.controller';
import { StreamController } from '../../apps/intake/src/stream/stream.controller';
import { SubjectsController } from '../../apps/intake/src/subjects/subjects.controller';
import { WebhooksController } from '../../apps/intake/src/webhooks/webhooks.controller';
import { API_ROUTES, Method, METHODS } from '../support/api-routes';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const CONTROLLERS: Record<string, Type<unknown>> = {
  MissionsController,
  DeadLettersController,
  AgentsController,
  ReportsController,
  ReviewsController,
  StreamController,
  CallerController,
  MissionChainController,
  ThroughputController,
  WebhooksController,
  SchedulesController,
  SubjectsController,
  RetentionController,
};
const ERROR_REF = '#/components/schemas/ErrorBodyView';

interface SchemaHost {
  schema?: { $ref?: string };
}
interface ResponseLike {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, SchemaHost>;
}
interface ParameterLike {
  name: string;
  in: string;
  required?: boolean;
}
interface OperationLike {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: ParameterLike[];
  responses?: Record<string, ResponseLike>;
}

function operationsOf(document: OpenAPIObject): { method: Method; path: string; operation: OperationLike }[] {
  return Object.entries(document.paths).flatMap(([path, item]) => {
    const methods = item as Partial<Record<Method, OperationLike>>;
    return METHODS.flatMap((method) => {
      const operation = methods[method];
      return operation ? [{ method, path, operation }] : [];
    });
  });
}

/** Every `$ref` anywhere in a JSON value, with where it was found. */
function collectRefs(value: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => collectRefs(item, `${at}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === '$ref' && typeof child === 'string' ? [{ ref: child, at }] : collectRefs(child, `${at}/${key}`),
  );
}

/** The /api routes Express actually serves, as OpenAPI paths (`:id` becomes `{id}`). */
function servedApiRoutes(system: InProcessSystem): string[] {
  const express = system.intake.getHttpAdapter().getInstance() as {
    router?: { stack?: { route?: { path?: unknown; methods?: Record<string, boolean> } }[] };
  };
  return (express.router?.stack ?? []).flatMap((layer) => {
    const path = layer.route?.path;
    if (typeof path !== 'string' || !path.startsWith('/api')) return [];
    const openApiPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    return Object.keys(layer.route?.methods ?? {})
      .filter((m) => m !== '_all')
      .map((method) => `${method} ${openApiPath}`);
  });
}

/**
 * The role ApiKeyGuard enforces for a handler (its @RequiresRole, its controller's, or the method
 * default), and whether a client key may call it (@OpenToClients).
 */
function enforcedRole(operationId: string, method: Method): { role: Role; openToClients: boolean } {
  const [controllerName, handlerName] = operationId.split('_');
  const controller = CONTROLLERS[controllerName];
  expect(controller).toBeDefined();
  const handler: unknown = (controller.prototype as Record<string, unknown>)[handlerName];
  expect(typeof handler).toBe('function');
  const ownRole: unknown = Reflect.getMetadata(REQUIRED_ROLE, handler as object);
  const classRole: unknown = Reflect.getMetadata(REQUIRED_ROLE, controller);
  return {
    role: ((ownRole ?? classRole) as Role | undefined) ?? defaultRole(method),
    openToClients: Reflect.getMetadata(OPEN_TO_CLIENTS, handler as object) === true,
  };
}

describe('OpenAPI document of the intake (in-process system)', () => {
  let system: InProcessSystem;
  let document: OpenAPIObject;

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-openapi');
    // No API key: the docs are public.
    const response = await request(system.intake.getHttpServer()).get('/docs-json').expect(200).expect('Content-Type', /json/);
    document = response.body as OpenAPIObject;
  });
  afterAll(async () => {
    await system.close();
  });

  const operation = (method: Method, path: string): OperationLike => {
    const item = document.paths[path] as Partial<Record<Method, OperationLike>> | undefined;
    const found = item?.[method];
    if (!found) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    return found;
  };
  const apiOperations = () => operationsOf(document).filter(({ path }) => path.startsWith('/api'));

  it('is OpenAPI 3 with a title, version and both ways to present a key', () => {
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info.title).toBeTruthy();
    expect(document.info.version).toBeTruthy();
    expect(Object.keys(document.components?.securitySchemes ?? {})).toEqual(expect.arrayContaining(['bearer', 'api-key']));
  });

  it('documents every route of the intake API with its method, and nothing the API does not serve', () => {
    for (const [method, path] of API_ROUTES) expect(() => operation(method, path)).not.toThrow();
    const documented = apiOperations().map(({ method, path }) => `${method} ${path}`);
    const expected = API_ROUTES.map(([method, path]) => `${method} ${path}`);
    expect([...documented].sort()).toEqual([...expected].sort());
    // And the list above is the API Express serves (HEAD is implied by GET).
    expect([...new Set(servedApiRoutes(system))].filter((r) => !r.startsWith('head ')).sort()).toEqual([...expected].sort());
  });

  it('gives every /api operation a summary, a tag, the key schemes, a 401 and an ErrorBodyView for every error', () => {
    for (const { method, path, operation: op } of apiOperations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect({ where, summary: op.summary }).toEqual({ where, summary: expect.any(String) });
      expect({ where, tags: op.tags?.length }).toEqual({ where, tags: 1 });
      expect({ where, security: op.security }).toEqual({ where, security: expect.arrayContaining([{ bearer: [] }, { 'api-key': [] }]) });
      const responses = op.responses ?? {};
      expect({ where, has401: '401' in responses, has429: '429' in responses }).toEqual({ where, has401: true, has429: true });
      expect(responses['429'].headers).toHaveProperty('Retry-After');
      for (const [status, response] of Object.entries(responses)) {
        const schemaRef = response.content?.['application/json']?.schema?.$ref;
        if (Number(status) >= 400) expect({ where, status, schemaRef }).toEqual({ where, status, schemaRef: ERROR_REF });
        // The live stream answers Server-Sent Events, not JSON.
        else
          expect({
            where,
            status,
            hasSchema: (response.content?.['application/json'] ?? response.content?.['text/event-stream'])?.schema !== undefined,
          }).toEqual({ where, status, hasSchema: true });
      }
    }
  });

  it('states in each operation the role ApiKeyGuard enforces, and documents 403 exactly where a reader or a client key is not enough', () => {
    for (const { method, path, operation: op } of apiOperations()) {
      const where = `${method.toUpperCase()} ${path}`;
      const { role, openToClients } = enforcedRole(op.operationId ?? '', method);
      const description = op.description ?? '';
      expect({ where, mentionsRole: description.includes(`**${role}**`) }).toEqual({ where, mentionsRole: true });
      expect({ where, mentionsClient: description.includes('**client**') }).toEqual({ where, mentionsClient: openToClients });
      expect({ where, has403: '403' in (op.responses ?? {}) }).toEqual({ where, has403: role !== 'reader' || !openToClients });
    }
  });

  it('documents POST /api/missions: 201 and 200 (idempotent repeat), its errors and headers', () => {
    const create = operation('post', '/api/missions');
    // 409: a guest's data key erased each time the create made it (SubjectKeyStore gives up after 5 tries).
    expect(Object.keys(create.responses ?? {})).toEqual(expect.arrayContaining(['201', '200', '400', '401', '403', '409', '413', '415', '429']));
    expect(create.responses?.['201'].content?.['application/json']?.schema?.$ref).toBe('#/components/schemas/MissionView');
    expect(create.responses?.['200'].content?.['application/json']?.schema?.$ref).toBe('#/components/schemas/MissionView');
    const headers = (create.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers).toEqual(expect.arrayContaining(['Idempotency-Key', 'X-Correlation-Id']));
    const body = (create as { requestBody?: { content?: Record<string, SchemaHost> } }).requestBody;
    expect(body?.content?.['application/json']?.schema?.$ref).toBe('#/components/schemas/MissionCreateDto');
  });

  it('documents 404 on routes by id, 409 on cancel and requeue, and the query parameters of the lists', () => {
    for (const [method, path] of API_ROUTES.filter(([, p]) => p.includes('{id}'))) {
      expect(Object.keys(operation(method, path).responses ?? {})).toContain('404');
    }
    expect(Object.keys(operation('post', '/api/missions/{id}/cancel').responses ?? {})).toContain('409');
    expect(Object.keys(operation('post', '/api/dlq/{id}/requeue').responses ?? {})).toContain('409');
    const listParams = (operation('get', '/api/missions').parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(listParams.sort()).toEqual(['agentId', 'createdFrom', 'createdTo', 'cursor', 'limit', 'priority', 'status', 'title', 'type']);
    const dlqParams = (operation('get', '/api/dlq').parameters ?? []).filter((p) => p.in === 'query');
    expect(dlqParams.map((p) => [p.name, p.required])).toEqual([
      ['cursor', false],
      ['limit', false],
      ['offset', false],
    ]);
  });

  it('given any documented /api operation with a query parameter it does not name, then a 400 names it, documented, before the route acts', async () => {
    const refused: string[] = [];
    for (const { method, path, operation: documented } of apiOperations()) {
      const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
        const parameter = (documented.parameters ?? []).find((p) => p.in === 'path' && p.name === name) as
          (ParameterLike & { schema?: { example?: string } }) | undefined;
        expect({ path, name, example: parameter?.schema?.example }).toEqual({ path, name, example: expect.any(String) });
        return encodeURIComponent(parameter?.schema?.example ?? '');
      });
      // `{}` for routes that take a body: the unknown parameter is refused before the body is checked.
      const call = system.api[method as 'get' | 'post' | 'patch' | 'delete'](`${url}?unknownParam=1`);
      const response = await (method === 'get' ? call : call.send({}));
      const expected = { status: 400, details: [{ field: 'unknownParam', problems: ['property unknownParam should not exist'] }] };
      if (response.status !== 400 || JSON.stringify(response.body.details) !== JSON.stringify(expected.details)) {
        refused.push(`${method.toUpperCase()} ${path}: ${response.status} ${JSON.stringify(response.body).slice(0, 120)}`);
      }
      expect(Object.keys(documented.responses ?? {})).toContain('400');
      expect(documented.responses?.['400']?.description).toMatch(/A query parameter the route does not name is a 400/);
    }
    expect(refused).toEqual([]);
    // Probes and scrapers stay as they are, whatever they append.
    const others = operationsOf(document).filter(({ path }) => !path.startsWith('/api'));
    expect(others.map(({ method, path }) => `${method} ${path}`)).toEqual(['get /health', 'get /health/ready']);
    await request(system.intake.getHttpServer()).get('/health?probe=1').expect(200);
  });

  it('given every /api route, then its answers carry Cache-Control: no-store, documented on each response; the live stream keeps its own', async () => {
    const server = system.intake.getHttpServer();
    const stored: string[] = [];
    const check = (what: string, response: { status: number; headers: Record<string, string> }, expected = 'no-store') => {
      if (response.headers['cache-control'] !== expected) stored.push(`${what}: ${response.status} Cache-Control ${response.headers['cache-control']}`);
    };
    for (const [method, template] of API_ROUTES) {
      const documented = operation(method, template);
      const url = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
        const parameter = (documented.parameters ?? []).find((p) => p.in === 'path' && p.name === name) as
          (ParameterLike & { schema?: { example?: string } }) | undefined;
        return encodeURIComponent(parameter?.schema?.example ?? '');
      });
      const where = `${method.toUpperCase()} ${template}`;
      // Without a key: the refusal of the middleware.
      check(`${where} without a key`, await request(server)[method as 'get'](url));
      // With a key: a GET's own answer (200 or 404 for an example id); any other method refused
      // by an unknown query parameter before it acts.
      if (method === 'get' && template !== '/api/stream') check(where, await system.api.get(url));
      else if (method !== 'get') check(`${where}?unknownParam=1`, await system.api[method as 'post'](`${url}?unknownParam=1`).send({}));
      for (const [status, response] of Object.entries(documented.responses ?? {})) {
        const header = response.headers?.['Cache-Control'] as { schema?: { example?: string } } | undefined;
        const expected = template === '/api/stream' && status === '200' ? 'no-cache, no-transform' : 'no-store';
        if (header?.schema?.example !== expected) stored.push(`${where} ${status}: documented Cache-Control ${header?.schema?.example}`);
      }
    }
    check('GET /api/stream?lastEventId=x', await system.api.get('/api/stream?lastEventId=x'));
    check('GET /api/nothing-here', await system.api.get('/api/nothing-here'));
    check(
      'POST /api/missions 201',
      await system.api.post('/api/missions').send({ type: 'pricing', title: 'Rate check', description: 'Compare.', priority: 'low', payload: {} }),
    );
    expect(stored).toEqual([]);
    // Outside /api, each keeps what it had.
    expect((await request(server).get('/health')).headers['cache-control']).not.toBe('no-store');
  });

  it('given a GET of the API, health or document with If-None-Match (an ETag or *) or If-Modified-Since, then it is a full 200 without an ETag, never an undocumented 304', async () => {
    const revalidated: string[] = [];
    for (const path of ['/api/missions', '/api/agents', '/api/reviews', '/api/missions/queue/stats', '/api/me', '/health', '/docs-json']) {
      const first = await system.api.get(path).expect(200);
      if (first.headers.etag !== undefined) revalidated.push(`${path}: ETag ${first.headers.etag}`);
      for (const tag of [first.headers.etag ?? 'W/"0-0"', '*']) {
        const again = await system.api.get(path).set('If-None-Match', tag);
        if (again.status !== 200) revalidated.push(`${path}: ${again.status} to If-None-Match ${tag}`);
      }
      const since = await system.api.get(path).set('If-Modified-Since', new Date(Date.now() + 60_000).toUTCString());
      if (since.status !== 200) revalidated.push(`${path}: ${since.status} to If-Modified-Since`);
    }
    expect(revalidated).toEqual([]);
  });

  it("given README's API table, then the row of every /api GET names each query parameter the document gives it", () => {
    const rows = readFileSync(join(__dirname, '../../README.md'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split(' | '));
    const unnamed: string[] = [];
    for (const { method, path, operation } of apiOperations().filter((entry) => entry.method === 'get')) {
      const route = `GET ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
      const row = rows.find(([cell]) => cell.split(/`/).some((part) => part.trim() === route));
      // The live stream's row points to its own section, which names its parameters.
      if (!row || path === '/api/stream') continue;
      for (const parameter of (operation.parameters ?? []).filter((p) => p.in === 'query')) {
        if (!row.join(' | ').includes(`\`${parameter.name}\``)) unnamed.push(`${method.toUpperCase()} ${path}: ${parameter.name}`);
      }
    }
    expect(unnamed).toEqual([]);
  });

  it('states in the request schemas the limits the server enforces: agent bodies, the reviewed attempt, the event types of a webhook', () => {
    const schemas = (document.components?.schemas ?? {}) as Record<string, { properties?: Record<string, Record<string, unknown>> }>;
    const property = (schema: string, name: string) => schemas[schema]?.properties?.[name];
    for (const body of ['RegisterAgentBody', 'UpdateAgentBody']) {
      expect(property(body, 'capacity')).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
      expect(property(body, 'name')).toMatchObject({ type: 'string', minLength: 1, maxLength: 120 });
      expect(property(body, 'skills')).toMatchObject({
        type: 'array',
        minItems: 1,
        maxItems: 30,
        items: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' },
      });
    }
    expect(property('RegisterAgentBody', 'id')).toMatchObject({ type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,63}$' });
    expect(property('RegisterAgentBody', 'credits')).toMatchObject({ minimum: 0, maximum: 1_000_000 });
    expect(property('ApproveMissionBody', 'attempt')).toMatchObject({ type: 'integer', minimum: 1 });
    expect(property('RejectMissionBody', 'attempt')).toMatchObject({ type: 'integer', minimum: 1 });
    expect(property('CreateWebhookBody', 'eventTypes')).toMatchObject({ type: 'array', minItems: 1, uniqueItems: true });
  });

  it("gives each paged list's nextCursor an example its cursor parameter takes, and each cursor parameter an example of its own pattern", () => {
    const schemas = (document.components?.schemas ?? {}) as Record<string, { properties?: Record<string, { example?: unknown }> }>;
    const paged = apiOperations().flatMap(({ path, operation: found }) => {
      const cursor = (found.parameters ?? []).find((parameter) => parameter.in === 'query' && parameter.name === 'cursor') as
        (ParameterLike & { schema?: { pattern?: string; example?: string } }) | undefined;
      return cursor?.schema?.pattern ? [{ path, found, pattern: new RegExp(cursor.schema.pattern), example: cursor.schema.example }] : [];
    });
    expect(paged.map(({ path }) => path)).toContain('/api/webhooks/{id}/deliveries');
    for (const { path, found, pattern, example } of paged) {
      const content = found.responses?.['200']?.content as Record<string, { schema?: { $ref?: string } }> | undefined;
      const page = schemas[(content?.['application/json']?.schema?.$ref ?? '').replace('#/components/schemas/', '')];
      expect({ path, example: pattern.test(String(example)) }).toEqual({ path, example: true });
      expect({ path, nextCursor: pattern.test(String(page?.properties?.nextCursor?.example)) }).toEqual({ path, nextCursor: true });
    }
  });

  it('has the request and response schemas, the error body among them', () => {
    const schemas = document.components?.schemas ?? {};
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'MissionCreateDto',
        'MissionSourceDto',
        'CancelMissionBody',
        'RequeueFilterBody',
        'MissionView',
        'MissionEventView',
        'MissionPageView',
        'QueueStatsView',
        'DeadLetterView',
        'DeadLetterPageView',
        'RequeuedView',
        'ErrorBodyView',
      ]),
    );
    const errorBody = schemas.ErrorBodyView as { required?: string[]; properties?: Record<string, { type?: string }> };
    expect(errorBody.required?.sort()).toEqual(['details', 'error', 'message', 'statusCode']);
    expect(errorBody.properties?.details.type).toBe('array');
    const mission = schemas.MissionView as { required?: string[] };
    expect(mission.required).toEqual(expect.arrayContaining(['id', 'status', 'priorityScore', 'result', 'evaluation', 'version']));
  });

  it('given a new mission, then its 201 body, with result and evaluation null, matches the document', async () => {
    const created = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: 'Rate check', description: 'Compare the weekend rates.', priority: 'low', payload: {} })
      .expect(201);
    expect(created.body).toMatchObject({ result: null, evaluation: null });
    expect(system.contract.check('POST', '/api/missions', 201, 'application/json', JSON.stringify(created.body))).toBeUndefined();
  });

  it('given a body sent to every /api operation, then each answer is one its operation documents: 413 too large, 415 not JSON, 400 on a route that takes none', async () => {
    const server = system.intake.getHttpServer();
    // Ids of the right form, so that only the body can be refused; none is looked up, as the body is refused first.
    const path = (template: string) =>
      template
        .replace('{subjectId}', 'guest-4f1c')
        .replace('{deliveryId}', '1733400000000-0')
        .replace('{id}', template.startsWith('/api/agents') ? 'agent-nobody' : '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e');
    const send = (method: Method, url: string, contentType: string, body: string) =>
      request(server)[method as 'get'](url).set('Authorization', `Bearer ${TEST_KEYS.operator}`).set('Content-Type', contentType).timeout(5_000).send(body);
    const large = JSON.stringify({ filler: 'x'.repeat(system.environment.BODY_LIMIT_BYTES + 1024) });
    const answers: string[] = [];
    const violations: string[] = [];
    for (const { method, path: template, operation: op } of apiOperations()) {
      if (method === 'head' || method === 'options') continue;
      const url = path(template);
      const takesBody = (op as { requestBody?: unknown }).requestBody !== undefined;
      const cases: [string, string, number][] = [
        ['application/json', large, 413],
        ['text/plain', 'hello', 415],
        ...(takesBody ? [] : ([['application/json', '{"dryRun":true}', 400]] as [string, string, number][])),
      ];
      for (const [contentType, body, expected] of cases) {
        const response = await send(method, url, contentType, body).catch((error: Error) => ({
          status: 0,
          text: error.message,
          headers: {} as Record<string, string>,
        }));
        answers.push(`${method.toUpperCase()} ${template} ${contentType} ${body.length}: ${response.status}`);
        if (response.status !== expected) violations.push(`${method.toUpperCase()} ${template} ${contentType}: ${response.status}, expected ${expected}`);
        const drift = system.contract.check(method.toUpperCase(), url, response.status, response.headers['content-type'], response.text);
        if (drift) violations.push(drift);
        if (expected === 400 && response.status === 400 && !response.text.includes('"field":"body"')) {
          violations.push(`${method.toUpperCase()} ${template}: the 400 does not name the body: ${response.text}`);
        }
      }
    }
    expect(answers.length).toBeGreaterThan(90);
    expect(violations).toEqual([]);
  }, 60_000);

  it('has a response contract that flags drift: a wrong type, a field the document does not name, a status it does not list', () => {
    const stats = { ready: 0 };
    const check = (status: number, body: unknown) =>
      system.contract.check('GET', '/api/missions/queue/stats', status, 'application/json', JSON.stringify(body));
    expect(check(200, stats)).toMatch(/must have required property/);
    const error = { statusCode: 404, error: 'Not Found', message: 'x', details: [] };
    expect(check(404, error)).toMatch(/status not documented/);
    expect(check(401, { ...error, statusCode: 401, stack: 'at …' })).toMatch(/must NOT have additional properties/);
    expect(check(401, { ...error, statusCode: '401' })).toMatch(/statusCode must be/);
    expect(check(401, { ...error, statusCode: 401 })).toBeUndefined();
  });

  it('describes the Idempotency-Key header as it behaves: scoped to the API key, 200 for the same body, 422 for another or once expired', () => {
    const create = document.paths['/api/missions'].post as { parameters?: { name: string; in: string; description?: string }[] };
    const header = create.parameters?.find((parameter) => parameter.in === 'header' && parameter.name === 'Idempotency-Key');
    expect(header?.description).toMatch(/API key/);
    expect(header?.description).toMatch(/same body[^.;]*\(200\)/);
    expect(header?.description).toMatch(/another body[^.]*422/);
    expect(header?.description).toMatch(/expired/);
  });

  it('documents systemPrompt of an agent as optional, for operators only', () => {
    const agent = document.components?.schemas?.AgentViewSchema as { required?: string[]; properties?: Record<string, { description?: string }> };
    expect(agent.properties?.systemPrompt.description).toMatch(/operator/);
    expect(agent.required).not.toContain('systemPrompt');
  });

  it('is structurally sound: every $ref resolves, every operation has responses with descriptions, every path parameter is declared, operation ids are unique', () => {
    const schemas = document.components?.schemas ?? {};
    const refs = collectRefs(document);
    expect(refs.length).toBeGreaterThan(0);
    const dangling = refs.filter(({ ref }) => {
      const match = /^#\/components\/schemas\/([^/]+)$/.exec(ref);
      return !match || !(match[1] in schemas);
    });
    expect(dangling).toEqual([]);

    const ids: string[] = [];
    for (const { method, path, operation: op } of operationsOf(document)) {
      const where = `${method.toUpperCase()} ${path}`;
      const responses = Object.entries(op.responses ?? {});
      expect({ where, responses: responses.length > 0 }).toEqual({ where, responses: true });
      for (const [status, response] of responses) {
        expect({ where, status, valid: /^([1-5]\d\d|[1-5]XX|default)$/.test(status) && typeof response.description === 'string' }).toEqual({
          where,
          status,
          valid: true,
        });
      }
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect({ where, path: declared.map((p) => p.name).sort() }).toEqual({ where, path: [...templated].sort() });
      expect(declared.every((p) => p.required === true)).toBe(true);
      if (op.operationId) ids.push(op.operationId);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serves Swagger UI at /docs without a key, with every script and stylesheet it loads', async () => {
    const response = await request(system.intake.getHttpServer()).get('/docs').expect(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.text).toMatch(/swagger-ui/i);
    const assets = [...response.text.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => new URL(match[1], 'http://intake/docs').pathname);
    expect(assets).toEqual(expect.arrayContaining(['/docs/swagger-ui-bundle.js', '/docs/swagger-ui-init.js', '/docs/swagger-ui.css']));
    for (const asset of assets) await request(system.intake.getHttpServer()).get(asset).expect(200);
  });

  it.each(['/docs/', '/docs/index.html', '/DOCS/'])('redirects %s to the one Swagger UI page, keeping the query', async (path) => {
    const response = await request(system.intake.getHttpServer()).get(`${path}?url=x`).expect(301);
    expect(response.headers.location).toBe('/docs?url=x');
  });
});
