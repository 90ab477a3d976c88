import { fold, MissionEvent, MissionEventType } from '@app/mission';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const lateCheckout = {
  type: 'guest_support',
  title: 'Late checkout request, room 412',
  description: 'Guest asks whether a checkout at 14:00 instead of 11:00 is possible tomorrow.',
  priority: 'normal',
  payload: { language: 'en', guest: { name: 'Ms. Carter', vip: false }, message: 'Could I check out at 2 pm tomorrow?' },
  source: { system: 'odoo', model: 'helpdesk.ticket', recordId: 4711 },
};

describe('a mission end to end (four services, real Redis)', () => {
  describe('given the happy path', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-happy');
    });
    afterAll(async () => system.close());

    it('when a mission is created over HTTP, then it succeeds with a full, contiguous history that folds to the read model', async () => {
      const created = await system.api.post('/api/missions').send(lateCheckout).expect(201);
      expect(created.body).toMatchObject({ type: 'guest_support', status: 'queued', attempts: 0, version: 2 });
      expect(created.body.priorityScore).toBeGreaterThan(0);

      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
      expect(done.status).toBe('succeeded');

      const fetched = await system.api.get(`/api/missions/${done.id}`).expect(200);
      for (const field of [
        'id',
        'type',
        'title',
        'priority',
        'priorityScore',
        'status',
        'attempts',
        'assignedAgentId',
        'result',
        'evaluation',
        'version',
        'createdAt',
        'updatedAt',
      ]) {
        expect(fetched.body).toHaveProperty(field);
      }
      expect(fetched.body.evaluation).toMatchObject({ attempt: 1, passed: true, judge: 'rules' });
      expect(fetched.body.result.output.language).toBe('en');

      const history = await system.api.get(`/api/missions/${done.id}/events`).expect(200);
      const events = history.body as MissionEvent[];
      expect(events.map((e) => e.type)).toEqual<MissionEventType[]>([
        'MissionCreated',
        'MissionQueued',
        'MissionAssigned',
        'MissionStarted',
        'MissionCompleted',
        'MissionEvaluated',
      ]);
      expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
      // Who created it is the API key's name (system.api sends the operator key); the services name themselves.
      expect(events.map((e) => e.actor)).toEqual(['operator', 'operator', 'orchestrator', 'executor', 'executor', 'evaluator']);
      expect(new Set(events.map((e) => e.correlationId)).size).toBe(1);
      expect(fold(events)).toEqual(fetched.body);

      // Time travel: the mission as it was when it was assigned, and a window of its events.
      const assignedAt = events[2].at;
      const past = await system.api.get(`/api/missions/${done.id}`).query({ at: assignedAt }).expect(200);
      expect(past.body).toEqual(fold(events.filter((e) => e.at <= assignedAt)));
      expect(past.body.version).toBeGreaterThanOrEqual(3);
      await system.api.get(`/api/missions/${done.id}`).query({ at: '1999-01-01T00:00:00Z' }).expect(404);
      await system.api.get(`/api/missions/${done.id}`).query({ at: 'yesterday' }).expect(400);
      const window = await system.api.get(`/api/missions/${done.id}/events`).query({ from: events[0].at, to: '2999-01-01T00:00:00Z' }).expect(200);
      expect(window.body).toHaveLength(6);
      const none = await system.api.get(`/api/missions/${done.id}/events`).query({ to: events[0].at }).expect(200);
      expect(none.body).toEqual([]);

      await system.waitForLoad(events.find((e) => e.type === 'MissionAssigned')?.data.agentId ?? '', 0);
      const stats = await system.api.get('/api/missions/queue/stats').expect(200);
      expect(stats.body).toMatchObject({ ready: 0, inFlight: 0, deadLettered: 0 });
    });

    it('when the same create repeats with an idempotency key, then it returns the first mission with 200', async () => {
      const body = { ...lateCheckout, source: undefined, title: 'Noise complaint' };
      const first = await system.api.post('/api/missions').set('Idempotency-Key', 'ticket-9001').send(body).expect(201);
      const again = await system.api.post('/api/missions').set('Idempotency-Key', 'ticket-9001').send(body).expect(200);
      expect(again.body.id).toBe(first.body.id);
      await system.waitForStatus(first.body.id, ['succeeded']);
      const repeatedLater = await system.api.post('/api/missions').set('Idempotency-Key', 'ticket-9001').send(body).expect(200);
      expect(repeatedLater.body).toMatchObject({ id: first.body.id, status: 'succeeded' });
    });

    it('when the body is invalid, then 400 names each bad field and nothing is written', async () => {
      const before = await system.logLength();
      const response = await system.api
        .post('/api/missions')
        .send({ ...lateCheckout, type: 'spa', priority: 'urgent', extra: true })
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const fields = (response.body.details as { field: string }[]).map((d) => d.field).sort();
      expect(fields).toEqual(['extra', 'priority', 'type']);
      expect(await system.logLength()).toBe(before);
    });

    it('when the id is unknown, then 404 in the error shape; when it is not a mission id, then 400', async () => {
      const unknown = '00000000-0000-7000-8000-000000000000';
      const response = await system.api.get(`/api/missions/${unknown}`).expect(404);
      expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: `mission ${unknown} not found`, details: [] });
      await system.api.get(`/api/missions/${unknown}/events`).expect(404);
      const malformed = await system.api.get('/api/missions/does-not-exist').expect(400);
      expect(malformed.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'id must be a mission id: a lowercase UUID', details: [] });
    });

    it('when a German guest writes in decomposed form (NFD), then the first reply is German, about the late check-out, and succeeds', async () => {
      const message = 'Könnten wir bitte später auschecken? Vielen Dank'.normalize('NFD');
      const body = { ...lateCheckout, source: undefined, title: 'Anfrage', description: 'Gast schreibt', payload: { message } };
      const created = await system.api.post('/api/missions').send(body).expect(201);
      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
      const fetched = await system.api.get(`/api/missions/${done.id}`).expect(200);
      expect(fetched.body.result.output).toMatchObject({ language: 'de', reply: expect.stringMatching(/späten Check-out/) });
    });

    it("when the guest's locale is none of the supported languages, then the first failed verdict dead-letters it for a person to answer", async () => {
      const payload = { language: 'tr_TR', message: 'Merhaba, odadan daha geç çıkabilir miyiz? Teşekkürler.' };
      const created = await system.api
        .post('/api/missions')
        .send({ ...lateCheckout, source: undefined, payload })
        .expect(201);
      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
      expect(done).toMatchObject({ status: 'dead_lettered', attempts: 1, evaluation: { passed: false } });
      expect(done.evaluation?.reason).toMatch(/right_language \(critical\): the guest's language \(the locale "tr_TR"\)/);
      const deadLettered = (await system.store.history(done.id)).find((e) => e.type === 'MissionDeadLettered');
      expect(deadLettered?.data).toMatchObject({
        reason: expect.stringMatching(/^permanent failure: the guest's language \(the locale "tr_TR"\) is none of the supported languages/),
      });
    });
  });

  describe('given an LLM that always fails', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-failing', { MOCK_LLM_FAILURE_RATE: '1', MAX_ATTEMPTS: '3' });
    });
    afterAll(async () => system.close());

    it('when a mission is created, then it is retried MAX_ATTEMPTS times, each after its backoff, and dead-lettered with the reason', async () => {
      const created = await system.api.post('/api/missions').send(lateCheckout).expect(201);
      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
      expect(done.status).toBe('dead_lettered');
      expect(done.attempts).toBe(3);
      expect(done.lastError).toBe('mock provider failure');

      const events = await system.store.history(done.id);
      expect(events.map((e) => e.type)).toEqual<MissionEventType[]>([
        'MissionCreated',
        'MissionQueued',
        'MissionAssigned',
        'MissionStarted',
        'MissionFailed',
        'MissionScheduled',
        'MissionQueued',
        'MissionAssigned',
        'MissionStarted',
        'MissionFailed',
        'MissionScheduled',
        'MissionQueued',
        'MissionAssigned',
        'MissionStarted',
        'MissionFailed',
        'MissionDeadLettered',
      ]);
      expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
      const assignedTo = events.flatMap((e) => (e.type === 'MissionAssigned' ? [e.data.agentId] : []));
      expect(new Set(assignedTo).size).toBe(3);
      expect(await system.redis.zscore(system.keys.of(done.id).deadLetters, done.id)).not.toBeNull();
      const stats = await system.api.get('/api/missions/queue/stats').expect(200);
      expect(stats.body).toMatchObject({ ready: 0, inFlight: 0, deadLettered: 1 });
    });
  });
});
