import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, signWebhook, webhookSignatureHeader } from './webhook-signature';

describe('webhook signatures (Standard Webhooks)', () => {
  const body = JSON.stringify({ type: 'mission.finished', timestamp: '2026-05-01T12:00:00.000Z', data: { missionId: 'm-1', status: 'succeeded' } });
  const now = () => Math.floor(Date.now() / 1000);

  it('given a new secret, then it is whsec_ and the base64 of 24 random bytes, and no two are alike', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(24);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it('when a delivery is signed, then the reference library verifies it with the secret, and refuses another body or secret', () => {
    const secret = newWebhookSecret();
    const timestamp = now();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secret, 'msg_1', timestamp, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('succeeded', 'cancelled'), headers)).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('given the same id, timestamp and body, then the signature equals the reference library\u2019s own', () => {
    const secret = newWebhookSecret();
    const timestamp = now();
    expect(signWebhook(secret, 'msg_2', timestamp, body)).toBe(new Webhook(secret).sign('msg_2', new Date(timestamp * 1000), body));
  });

  it('given two secrets in force (a rotation), then the header carries two signatures and each secret verifies it', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const timestamp = now();
    const signature = webhookSignatureHeader([current, previous], 'msg_3', timestamp, body);
    expect(signature.split(' ')).toHaveLength(2);
    for (const secret of [current, previous]) {
      expect(new Webhook(secret).verify(body, { 'webhook-id': 'msg_3', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature })).toBeTruthy();
    }
  });
});
