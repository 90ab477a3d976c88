import request from 'supertest';
import { waitFor, WebhookReceiver } from '@app/testing';
import { MAX_WEBHOOK_SECRETS, MISSION_FINISHED, WebhookKeys, WebhookOutbox } from '@app/webhooks';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const aMission = (n: number) => ({
  type: 'guest_support',
  title: `Extra towels ${n}`,
  description: `Room ${200 + n} asks for two more towels.`,
  priority: 'normal',
  payload: { language: 'en', room: String(200 + n) },
});

describe('webhooks from the event log (four services, real Redis, a receiver on loopback)', () => {
  let system: InProcessSystem;
  let receiver: WebhookReceiver;
  /** The intake serving the API now (a test restarts it). */
  let api: () => request.Agent;

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-webhooks', { WEBHOOK_BACKOFF_MS: '50', WEBHOOK_BACKOFF_MAX_MS: '200', WEBHOOK_TIMEOUT_MS: '2000' });
    receiver = await WebhookReceiver.start();
    api = () => request.agent(system.intake.getHttpServer()).set('Authorization', `Bearer ${TEST_KEYS.operator}`);
  });
  afterAll(async () => {
    await system.close();
    await receiver.close();
  });

  it('given bad or unsafe subscriptions, then they are refused with a 4xx naming the problem, and only operators may subscribe', async () => {
    const body = { url: receiver.url, eventTypes: [MISSION_FINISHED] };
    for (const url of ['http://127.0.0.2:8080/hooks', 'http://10.0.0.1/hooks', 'http://169.254.169.254/latest', 'http://localhost:9/hooks']) {
      const refused = await api()
        .post('/api/webhooks')
        .send({ ...body, url })
        .expect(422);
      expect(refused.body.message).toContain('WEBHOOK_ALLOWED_HOSTS');
    }
    await api()
      .post('/api/webhooks')
      .send({ ...body, eventTypes: ['MissionExploded'] })
      .expect(400);
    await api()
      .post('/api/webhooks')
      .send({ ...body, url: 'ftp://127.0.0.1/x' })
      .expect(400);
    await request(system.intake.getHttpServer()).post('/api/webhooks').set('Authorization', `Bearer ${TEST_KEYS.submitter}`).send(body).expect(403);
    await api().get('/api/webhooks/wh_000000000000000000000000').expect(404);
    await api().get('/api/webhooks/nope').expect(400);
    // Cursors the API never issues (a padded or inexact score) were taken as positions.
    // Nor the forms of older intakes (a score alone, a score and an id), taken by any subscription and status.
    for (const cursor of [
      '00151.msg_0123456789abcdef0123456789abcdef.AAAAAAAAAAAA',
      '9007199254740993',
      '1.5',
      '1796424261368',
      '1796424261368.msg_0123456789abcdef0123456789abcdef',
    ]) {
      const refused = await api().get(`/api/webhooks/wh_000000000000000000000000/deliveries?cursor=${cursor}`).expect(400);
      expect(JSON.stringify(refused.body.details)).toMatch(/start again without a cursor/);
    }
    await api().get('/api/webhooks/wh_000000000000000000000000/deliveries?cursor=1796424261368.msg_0123456789abcdef0123456789abcdef.AAAAAAAAAAAA').expect(404);
    // Checked and called as URL parsing reads it (host 127.0.0.1), it used to be listed as sent: an operator read evil.example.
    const { port } = new URL(receiver.url);
    const spelled = await api()
      .post('/api/webhooks')
      .send({ ...body, url: `http://127.0.0.1:${port}\\@evil.example/hooks` })
      .expect(201);
    expect(spelled.body.url).toBe(`http://127.0.0.1:${port}/@evil.example/hooks`);
    await api().delete(`/api/webhooks/${spelled.body.id}`).expect(200);
    // URL parsing reads 127.1 as 127.0.0.1, as it read 0x7f000001: both were a 400 "not an http or https URL" while 0x7f000001 was taken.
    for (const host of ['127.1', '0x7f000001']) {
      const shorthand = await api()
        .post('/api/webhooks')
        .send({ ...body, url: `http://${host}:${port}/x` })
        .expect(201);
      expect(shorthand.body.url).toBe(`http://127.0.0.1:${port}/x`);
      await api().delete(`/api/webhooks/${shorthand.body.id}`).expect(200);
    }
    // A name with its root dot is one: the policy judges where it resolves, and says so.
    const rooted = await api()
      .post('/api/webhooks')
      .send({ ...body, url: `http://localhost.:${port}/x` })
      .expect(422);
    expect(rooted.body.message).toContain('url host localhost.');
    expect((await api().get('/api/webhooks').expect(200)).body).toEqual([]);
  });

  it('given a receiver that fails first and an intake restarted mid-run, then every finished mission arrives exactly once after de-duplicating by webhook-id, each signature verified', async () => {
    const created = await api()
      .post('/api/webhooks')
      .send({ url: receiver.url, eventTypes: [MISSION_FINISHED, 'MissionCreated'], description: 'front desk' })
      .expect(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^wh_/), status: 'active', version: 1, secret: expect.stringMatching(/^whsec_/) });
    receiver.secrets = [created.body.secret];
    // Sealed under the master key in Redis: a dump does not let anyone sign deliveries.
    const stored = await system.redis.hget(new WebhookKeys(system.keys).secrets, created.body.id);
    expect(JSON.parse(stored ?? '[]')).toEqual([{ sealed: expect.any(String), mk: expect.stringMatching(/^mk-/), until: null }]);
    expect(stored).not.toContain('whsec_');
    const listed = await api().get('/api/webhooks').expect(200);
    expect(listed.body).toEqual([expect.not.objectContaining({ secret: expect.anything() })]);

    const firstAnswer = new Set<string>();
    receiver.respond = (webhook) => (firstAnswer.has(webhook.id) ? 200 : (firstAnswer.add(webhook.id), 500));
    const missions: string[] = [];
    for (let n = 0; n < 3; n++) missions.push((await api().post('/api/missions').send(aMission(n)).expect(201)).body.id);
    await waitFor(async () => receiver.unique().length > 0, { timeoutMs: 20_000, what: 'a first delivery' });

    await system.stopService('intake');
    await system.addInstance(intakeService);
    system.intake = system.apps[system.apps.length - 1];
    for (let n = 3; n < 6; n++) missions.push((await api().post('/api/missions').send(aMission(n)).expect(201)).body.id);
    for (const id of missions) await system.waitForStatus(id, ['succeeded']);

    const finished = await waitFor(
      async () => {
        const ends = receiver.unique().filter((webhook) => webhook.message.type === MISSION_FINISHED);
        return ends.length >= missions.length && ends;
      },
      { timeoutMs: 30_000, what: 'a mission.finished per mission' },
    );
    expect(finished.map((webhook) => webhook.message.data.missionId).sort()).toEqual([...missions].sort());
    expect(finished.every((webhook) => webhook.message.data.status === 'succeeded')).toBe(true);
    const creations = receiver.unique().filter((webhook) => webhook.message.type === 'MissionCreated');
    expect(creations.map((webhook) => webhook.message.data.missionId).sort()).toEqual([...missions].sort());
    expect(receiver.received.every((webhook) => webhook.verifiedBy.length === 1)).toBe(true);
    // Every delivery was answered 500 once, and retried with the same webhook-id.
    expect(
      receiver.received
        .filter((webhook) => webhook.answered === 500)
        .map((webhook) => webhook.id)
        .sort(),
    ).toEqual(
      receiver
        .unique()
        .map((webhook) => webhook.id)
        .sort(),
    );

    // A delivery is settled after the receiver answered it.
    const deliveries = await waitFor(
      async () => {
        const page = await api().get(`/api/webhooks/${created.body.id}/deliveries?status=delivered&limit=200`).expect(200);
        return page.body.items.length === 2 * missions.length && page;
      },
      { timeoutMs: 10_000, what: 'every delivery to be settled as delivered' },
    );
    expect(deliveries.body.items[0]).toMatchObject({ status: 'delivered', attempts: 2, lastResponseCode: 200, subscriptionId: created.body.id });
  });

  it('when an operator redelivers a delivery and rotates the secret, then it arrives again with the same webhook-id, signed with both secrets', async () => {
    const [subscription] = (await api().get('/api/webhooks').expect(200)).body;
    const rotated = await api().post(`/api/webhooks/${subscription.id}/rotate-secret`).expect(200);
    expect(rotated.body).toMatchObject({ version: 2, secret: expect.stringMatching(/^whsec_/), previousSecretUntil: expect.any(String) });
    expect(rotated.body.previousSecretsUntil).toEqual([rotated.body.previousSecretUntil]);
    receiver.secrets = [rotated.body.secret, ...receiver.secrets];
    expect(await system.redis.hget(new WebhookKeys(system.keys).secrets, subscription.id)).not.toContain('whsec_');

    const [delivery] = (await api().get(`/api/webhooks/${subscription.id}/deliveries?limit=1`).expect(200)).body.items;
    const before = receiver.received.length;
    const redelivered = await api().post(`/api/webhooks/${subscription.id}/deliveries/${delivery.id}/redeliver`).expect(202);
    // Who asked for it again is kept with the delivery (it used to be recorded nowhere).
    expect(delivery).toMatchObject({ redeliveredBy: null, redeliveredAt: null });
    expect(redelivered.body).toMatchObject({ id: delivery.id, status: 'pending', redeliveredBy: 'operator', redeliveredAt: expect.any(String) });
    const again = await waitFor(async () => receiver.received.slice(before).find((webhook) => webhook.id === delivery.id), {
      timeoutMs: 10_000,
      what: 'the redelivery',
    });
    expect(again.verifiedBy).toHaveLength(2);
    await api().post(`/api/webhooks/${subscription.id}/deliveries/msg_00000000000000000000000000000000/redeliver`).expect(404);

    expect((await api().delete(`/api/webhooks/${subscription.id}`).expect(200)).body).toMatchObject({ id: subscription.id, version: 2 });
    await api().get(`/api/webhooks/${subscription.id}`).expect(404);
  });

  it('when an operator rotates again within the overlap, then each answer lists every previous secret still signing, and one past the most kept is a 409 naming when the first overlap ends', async () => {
    const created = await api()
      .post('/api/webhooks')
      .send({ url: receiver.url, eventTypes: [MISSION_FINISHED] })
      .expect(201);
    const answers: { previousSecretUntil: string; previousSecretsUntil: string[] }[] = [];
    for (let i = 1; i < MAX_WEBHOOK_SECRETS; i++) {
      const { body } = await api().post(`/api/webhooks/${created.body.id}/rotate-secret`).expect(200);
      answers.unshift(body);
      expect(body.previousSecretsUntil).toEqual(answers.map((answer) => answer.previousSecretUntil));
    }

    const refused = await api().post(`/api/webhooks/${created.body.id}/rotate-secret`).expect(409);
    expect(refused.body.message).toContain(`has ${MAX_WEBHOOK_SECRETS} secrets signing, the most kept`);
    expect(refused.body.message).toContain(`the first one ends at ${answers[answers.length - 1].previousSecretUntil}`);
    const kept = await api().get(`/api/webhooks/${created.body.id}`).expect(200);
    expect(kept.body).toMatchObject({ version: MAX_WEBHOOK_SECRETS, previousSecretsUntil: answers[0].previousSecretsUntil });
    await api().delete(`/api/webhooks/${created.body.id}`).expect(200);
  });

  it('when the cleanup after a delete is cut short, then the delete stands (a 503: Redis was lost), and the same DELETE again is a 404 that finishes it', async () => {
    const created = (
      await api()
        .post('/api/webhooks')
        .send({ url: receiver.url, eventTypes: [MISSION_FINISHED] })
        .expect(201)
    ).body;
    const keys = new WebhookKeys(system.keys);
    const dead = 'msg_0000000000000000000000000000dead';
    await system.redis.hset(keys.delivery(dead), { subscription: created.id, mission: 'm-1', type: MISSION_FINISHED, status: 'dead', attempts: '3' });
    await system.redis.zadd(keys.dead(created.id), Date.now(), dead);
    await system.redis.zadd(keys.deliveries(created.id), 1, dead);
    const outbox = system.intake.get(WebhookOutbox);
    const cut = jest.spyOn(outbox, 'forget').mockRejectedValueOnce(new Error('Connection is closed.'));
    try {
      // A lost connection is Redis unreachable for the client: a 503 that says to retry, as the next DELETE does.
      await api().delete(`/api/webhooks/${created.id}`).expect(503);
    } finally {
      cut.mockRestore();
    }
    await api().get(`/api/webhooks/${created.id}`).expect(404);
    expect(await system.redis.exists(keys.delivery(dead), keys.dead(created.id), keys.deliveries(created.id))).toBe(3);

    // It answered 404 before the cleanup, which then never ran: the dead delivery and both lists stayed for good.
    await api().delete(`/api/webhooks/${created.id}`).expect(404);
    expect(await system.redis.exists(keys.delivery(dead), keys.dead(created.id), keys.deliveries(created.id))).toBe(0);
  });
});
