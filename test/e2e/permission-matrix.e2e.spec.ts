import request from 'supertest';
import { Role, ROLES } from '../../apps/intake/src/auth';
import { API_ROUTES } from '../support/api-routes';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const READERS: readonly Role[] = ['reader', 'submitter', 'reviewer', 'operator'];
const OPERATOR: readonly Role[] = ['operator'];

/**
 * Who may call each route, written out rather than derived from GRANTS, so that a change of a
 * role's rights shows here as a deliberate edit. A client key calls only its own missions' routes.
 */
const MAY_CALL: Record<string, readonly Role[]> = {
  'get /api/missions': [...READERS, 'client'],
  'post /api/missions': ['submitter', 'operator', 'client'],
  'get /api/missions/queue/stats': READERS,
  'get /api/missions/{id}': [...READERS, 'client'],
  'get /api/missions/{id}/events': [...READERS, 'client'],
  'post /api/missions/{id}/cancel': ['submitter', 'operator', 'client'],
  'get /api/dlq': OPERATOR,
  'post /api/dlq/requeue': OPERATOR,
  'post /api/dlq/{id}/requeue': OPERATOR,
  'get /api/agents': READERS,
  'post /api/agents': OPERATOR,
  'get /api/agents/{id}': READERS,
  'patch /api/agents/{id}': OPERATOR,
  'get /api/reports/daily': READERS,
  'get /api/reviews': READERS,
  'post /api/missions/{id}/approve': ['reviewer', 'operator'],
  'post /api/missions/{id}/reject': ['reviewer', 'operator'],
  'get /api/stream': [...READERS, 'client'],
  'post /api/stream/tokens': [...READERS, 'client'],
  'get /api/me': READERS,
  'get /api/missions/{id}/verify': READERS,
  'get /api/missions/queue/throughput': READERS,
  'post /api/webhooks': OPERATOR,
  'get /api/webhooks': OPERATOR,
  'get /api/webhooks/{id}': OPERATOR,
  'delete /api/webhooks/{id}': OPERATOR,
  'post /api/webhooks/{id}/rotate-secret': OPERATOR,
  'post /api/webhooks/{id}/enable': OPERATOR,
  'get /api/webhooks/{id}/deliveries': OPERATOR,
  'post /api/webhooks/{id}/deliveries/{deliveryId}/redeliver': OPERATOR,
  'get /api/schedules': OPERATOR,
  'post /api/schedules': OPERATOR,
  'get /api/schedules/{id}': OPERATOR,
  'get /api/schedules/{id}/events': OPERATOR,
  'delete /api/schedules/{id}': OPERATOR,
  'get /api/subjects/{subjectId}': OPERATOR,
  'delete /api/subjects/{subjectId}': OPERATOR,
  'get /api/retention': OPERATOR,
  'post /api/retention/run': OPERATOR,
};

describe('permission matrix: every /api route × every role (in-process system)', () => {
  let system: InProcessSystem;
  beforeAll(async () => {
    system = await startInProcessSystem('e2e-permission-matrix');
  });
  afterAll(async () => system.close());

  it('names every route of the API and every role', () => {
    expect(Object.keys(MAY_CALL).sort()).toEqual(API_ROUTES.map(([method, path]) => `${method} ${path}`).sort());
    expect(Object.keys(TEST_KEYS).sort()).toEqual([...ROLES].sort());
  });

  it('given each route and each role, then a role that may not call it gets 403 and one that may gets past the guard', async () => {
    const server = system.intake.getHttpServer();
    const wrong: string[] = [];
    for (const [method, template] of API_ROUTES) {
      // A well-formed id, and a query parameter no route takes: a role let through gets that 400
      // before anything is read or done, so no route acts and every answer is the guard's or the 400.
      const url = `${template.replace(/\{[^}]+\}/g, '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e')}?unknownParam=1`;
      const allowed = MAY_CALL[`${method} ${template}`];
      for (const role of ROLES) {
        const call = request(server)[method as 'get'](url).set('Authorization', `Bearer ${TEST_KEYS[role]}`);
        const response = await (method === 'get' ? call : call.send({}));
        const expected = allowed.includes(role) ? 400 : 403;
        if (response.status !== expected) wrong.push(`${method.toUpperCase()} ${template} as ${role}: ${response.status}, expected ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
