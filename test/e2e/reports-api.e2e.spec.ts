import request from 'supertest';
import { DailyReport } from '@app/projections';
import { waitFor } from '@app/testing';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const mission = {
  type: 'maintenance',
  title: 'AC broken in room 204',
  description: 'AC blows warm air since this morning.',
  priority: 'high',
  payload: { room: '204', safetyIssue: false },
};

describe('GET /api/reports/daily (in-process system)', () => {
  let system: InProcessSystem;
  const reader = () => request(system.intake.getHttpServer()).get('/api/reports/daily').set('Authorization', `Bearer ${TEST_KEYS.reader}`);

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-reports');
  });
  afterAll(async () => {
    await system.close();
  });

  it('given a mission that ran through the pipeline today, when a reader asks for the report, then today counts it as created and succeeded with its tokens', async () => {
    const created = await system.api.post('/api/missions').send(mission).expect(201);
    await system.waitForStatus(created.body.id as string, ['succeeded']);
    const today = new Date().toISOString().slice(0, 10);

    const report = await waitFor(
      async () => {
        const body = (await reader().query({ type: 'maintenance' }).expect(200)).body as DailyReport;
        return body.lagEvents === 0 && body.rows.at(-1)?.succeeded === 1 ? body : null;
      },
      { timeoutMs: 10_000, what: 'the daily report to count the mission' },
    );

    expect(report.to).toBe(today);
    expect(report.rows).toHaveLength(7);
    expect(report.rows.at(-1)).toMatchObject({ day: today, type: 'maintenance', created: 1, attempts: 1, evaluations: 1, succeeded: 1 });
    expect(report.rows.at(-1)?.promptTokens).toBeGreaterThan(0);
    expect(report.rows.at(-1)?.meanScore).toBeGreaterThan(0);
  });

  it.each([
    [{ from: '2026-13-01' }, 'from'],
    [{ to: '01.05.2026' }, 'to'],
    [{ type: 'spa' }, 'type'],
    [{ from: '2026-05-02', to: '2026-05-01' }, 'to'],
    [{ from: '2024-01-01', to: '2026-01-01' }, 'from'],
    [{ limit: '3' }, 'limit'],
  ])('given the query %j, when it is asked for, then it is a 400 naming %s', async (query, field) => {
    const response = await reader().query(query).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, message: 'request validation failed' });
    expect((response.body.details as { field: string }[]).map((d) => d.field)).toContain(field);
  });

  it('given no API key, when the report is asked for, then it is a 401', async () => {
    await request(system.intake.getHttpServer()).get('/api/reports/daily').expect(401);
  });
});
