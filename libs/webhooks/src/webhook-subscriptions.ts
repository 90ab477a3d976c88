import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MasterKeyRing, replaceIfUnchanged, RewrapResult, unwrappedOrSkipped } from '@app/guest-data';
import { LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { TooManyWebhookSecretsError } from './too-many-webhook-secrets-error';
import { WebhookKeys } from './webhook-keys';
import { newWebhookSecret } from './webhook-signature';
import { evolveWebhook, parseWebhookSubscription, StoredSecret, WebhookEvent, WebhookSubscription } from './webhook-subscription';

/** Result codes of append-webhook-event-5.lua. */
enum WebhookAppendCode {
  Ok = 0,
  VersionConflict = 1,
  NoLongerFailing = 2,
}

const appendScript = new LuaScript(join(__dirname, 'lua'), 'append-webhook-event-5', { constants: { CODE: luaEnum(WebhookAppendCode) } });

/** What POST /api/webhooks answers once: the subscription and its secret. */
export interface CreatedWebhook {
  subscription: WebhookSubscription;
  secret: string;
}

export class WebhookNotFoundError extends Error {
  constructor(readonly subscriptionId: string) {
    super(`webhook subscription ${subscriptionId} not found`);
    this.name = 'WebhookNotFoundError';
  }
}

export class WebhookVersionConflictError extends Error {
  constructor(readonly subscriptionId: string) {
    super(`webhook subscription ${subscriptionId} was changed concurrently; reload and retry`);
    this.name = 'WebhookVersionConflictError';
  }
}

/** What a signing secret is sealed as (with the subscription id as its owner): its ciphertext names neither. */
const SECRET_PURPOSE = 'webhook signing secret';

/**
 * The most secrets that sign a subscription's deliveries at once: the current one and three
 * previous ones, each until its overlap ends. Enough for a rotation repeated because its answer was
 * lost, or two operators rotating at once; a rotation past it is refused rather than dropping a
 * previous secret before the time it was promised, and the `webhook-signature` header stays short.
 */
export const MAX_WEBHOOK_SECRETS = 4;

/** `wh_` and 24 hex digits. */
export const WEBHOOK_ID_PATTERN = '^wh_[0-9a-f]{24}$';

/**
 * Webhook subscriptions as event-sourced records: every change (subscribe, rotate the secret,
 * disable, enable, delete) is an event in the subscriptions' stream, appended at an expected
 * version together with the record and the secrets, in one script.
 */
export class WebhookSubscriptions {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: WebhookKeys,
    /** The master keys that seal the signing secrets (those of guest data). */
    private readonly ring: MasterKeyRing,
    private readonly clock: () => number = Date.now,
  ) {}

  async create(input: { url: string; eventTypes: string[]; description: string }, actor: string): Promise<CreatedWebhook> {
    const secret = newWebhookSecret();
    const id = `wh_${randomBytes(12).toString('hex')}`;
    const event: WebhookEvent = { type: 'WebhookSubscribed', subscriptionId: id, at: this.now(), actor, data: input };
    const subscription = await this.append(null, event, [{ ...this.seal(id, secret), until: null }]);
    return { subscription, secret };
  }

  /**
   * A new secret signs from now on; the one before it keeps signing beside it for `overlapMs`, so
   * a receiver can switch over without refusing a delivery, and so does every earlier one until the
   * time its own rotation promised (a rotation repeated, say after its answer was lost, drops none).
   * Refused with a TooManyWebhookSecretsError when that would make more than MAX_WEBHOOK_SECRETS
   * sign. Returns the new secret (shown once).
   */
  async rotateSecret(id: string, overlapMs: number, actor: string): Promise<CreatedWebhook> {
    const record = await this.require(id);
    // Kept as stored (not opened: a rotation works whatever master keys this process has), sealed if in plain.
    const inForce = this.inForce(await this.storedSecrets(id)).map((stored) => this.sealedAsStored(id, stored));
    const [current, ...earlier] = inForce;
    const until = this.clock() + overlapMs;
    // Earlier ones keep their own time (only the current one is stored without one).
    const withEnd = (stored: StoredSecret) => ({ ...stored, until: stored.until ?? until });
    const kept = earlier.map(withEnd);
    // With no overlap the replaced one stops signing at once, so it is not kept.
    const previous = [...(current && overlapMs > 0 ? [withEnd(current)] : []), ...kept];
    if (previous.length + 1 > MAX_WEBHOOK_SECRETS) {
      // The earlier ones' stored times only: the current one ends at `until` only if this refused rotation
      // took place, so that is no time at which one ends, and a retry at it would be told a later one.
      const firstEnds = Math.min(...kept.map((stored) => stored.until));
      throw new TooManyWebhookSecretsError(id, inForce.length, new Date(firstEnds).toISOString());
    }
    const secret = newWebhookSecret();
    const event: WebhookEvent = {
      type: 'WebhookSecretRotated',
      subscriptionId: id,
      at: this.now(),
      actor,
      data: {
        previousSecretUntil: new Date(until).toISOString(),
        // The replaced one first even with no overlap (its time is then now: ended), as a record written before this list reads it.
        previousSecretsUntil: [until, ...kept.map((stored) => stored.until)].map((ms) => new Date(ms).toISOString()),
      },
    };
    const secrets: StoredSecret[] = [{ ...this.seal(id, secret), until: null }, ...previous];
    return { subscription: await this.append(record, event, secrets), secret };
  }

  async disable(id: string, reason: string, actor: string): Promise<WebhookSubscription> {
    const record = await this.require(id);
    if (record.status === 'disabled') return record;
    return this.append(record, { type: 'WebhookDisabled', subscriptionId: id, at: this.now(), actor, data: { reason } });
  }

  /**
   * The dispatcher's disable of an endpoint whose requests have failed since `failingSince` (ms, the
   * failure clock the settling of its last failed request returned, on which it decided): appended
   * only while that clock still reads the same and the subscription is still active at the version
   * read, both checked in the script that appends the event. A success settled since (it clears the
   * clock), an operator's enable (it restarts it), or any other change since keeps it as it is.
   * Resolves with whether this call disabled it (false when it is gone or disabled already too).
   */
  async disableFailing(id: string, reason: string, actor: string, failingSince: number): Promise<boolean> {
    const record = await this.get(id);
    if (!record || record.status === 'disabled') return false;
    const event: WebhookEvent = { type: 'WebhookDisabled', subscriptionId: id, at: this.now(), actor, data: { reason } };
    const [code] = await this.appendIf(record, event, undefined, failingSince);
    return code === WebhookAppendCode.Ok;
  }

  async enable(id: string, actor: string): Promise<WebhookSubscription> {
    const record = await this.require(id);
    if (record.status === 'active') return record;
    return this.append(record, { type: 'WebhookEnabled', subscriptionId: id, at: this.now(), actor, data: {} });
  }

  /** Resolves with the subscription as it was before. */
  async delete(id: string, actor: string): Promise<WebhookSubscription> {
    const record = await this.require(id);
    return this.append(record, { type: 'WebhookDeleted', subscriptionId: id, at: this.now(), actor, data: {} });
  }

  async get(id: string): Promise<WebhookSubscription | null> {
    const json = await this.redis.hget(this.keys.subscriptions, id);
    return json ? parseWebhookSubscription(json) : null;
  }

  /** Whether there is any subscription: one HLEN, nothing parsed. */
  async any(): Promise<boolean> {
    return (await this.redis.hlen(this.keys.subscriptions)) > 0;
  }

  async list(): Promise<WebhookSubscription[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.subscriptions)).map(parseWebhookSubscription);
    return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * The secrets that sign now, the current one first; a previous one only until its overlap ends.
   * Opened with the master keys (one written before secrets were sealed is read as it is): a
   * WrongMasterKeyError when one is sealed under a master key not configured, a GuestDataError
   * `tampered` when one was altered.
   */
  async secretsInForce(id: string): Promise<string[]> {
    return this.inForce(await this.storedSecrets(id)).map((stored) =>
      'secret' in stored ? stored.secret : this.ring.open(SECRET_PURPOSE, id, stored).toString('utf8'),
    );
  }

  /**
   * Seals every signing secret under the current master key (a plain one written before secrets
   * were sealed too), so the previous master keys can be retired: `replay rewrap-keys`. A
   * subscription's secrets replaced (rotated) or deleted meanwhile are left as they are, and so are
   * those under a master key the ring lacks (named in notConfigured).
   */
  async rewrapSecrets(): Promise<RewrapResult> {
    const result: RewrapResult = { rewrapped: 0, current: 0, changed: 0, notConfigured: [] };
    for (const [id, json] of Object.entries(await this.redis.hgetall(this.keys.secrets))) {
      const stored = JSON.parse(json) as StoredSecret[];
      if (stored.every((secret) => 'mk' in secret && secret.mk === this.ring.current.id)) {
        result.current += 1;
        continue;
      }
      // The subscription's secrets are replaced together, so one under a master key the ring lacks leaves them all.
      const next = unwrappedOrSkipped(result, { owner: id }, () =>
        stored.map((secret): StoredSecret => {
          if ('mk' in secret && secret.mk === this.ring.current.id) return secret;
          const plain = 'secret' in secret ? secret.secret : this.ring.open(SECRET_PURPOSE, id, secret).toString('utf8');
          return { ...this.seal(id, plain), until: secret.until };
        }),
      );
      if (!next) continue;
      if (await replaceIfUnchanged(this.redis, this.keys.secrets, id, json, JSON.stringify(next))) result.rewrapped += 1;
      else result.changed += 1;
    }
    return result;
  }

  async require(id: string): Promise<WebhookSubscription> {
    const record = await this.get(id);
    if (!record) throw new WebhookNotFoundError(id);
    return record;
  }

  private async storedSecrets(id: string): Promise<StoredSecret[]> {
    const json = await this.redis.hget(this.keys.secrets, id);
    return json ? (JSON.parse(json) as StoredSecret[]) : [];
  }

  private inForce(stored: StoredSecret[]): StoredSecret[] {
    const now = this.clock();
    return stored.filter(({ until }) => until === null || until > now);
  }

  /** A stored secret as it is when sealed already, else sealed under the current master key (its `until` kept). */
  private sealedAsStored(id: string, stored: StoredSecret): StoredSecret {
    return 'secret' in stored ? { ...this.seal(id, stored.secret), until: stored.until } : stored;
  }

  /** `secret` sealed under the current master key, bound to the subscription. */
  private seal(id: string, secret: string): { sealed: string; mk: string } {
    return this.ring.seal(SECRET_PURPOSE, id, Buffer.from(secret, 'utf8'));
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  private async append(record: WebhookSubscription | null, event: WebhookEvent, secrets?: StoredSecret[]): Promise<WebhookSubscription> {
    const [code, next] = await this.appendIf(record, event, secrets);
    if (code === WebhookAppendCode.VersionConflict) throw new WebhookVersionConflictError(event.subscriptionId);
    return next ?? (record as WebhookSubscription);
  }

  /**
   * Appends `event` at `record`'s version (append-webhook-event-5.lua), with `ifFailingSince` only
   * while the endpoint's failure clock reads it; resolves with the script's code and the record after.
   */
  private async appendIf(
    record: WebhookSubscription | null,
    event: WebhookEvent,
    secrets?: StoredSecret[],
    ifFailingSince?: number,
  ): Promise<[WebhookAppendCode, WebhookSubscription | null]> {
    const next = evolveWebhook(record, event);
    // Failures before an endpoint was enabled again (or deleted) must not count towards disabling it.
    const restartsFailureClock = event.type === 'WebhookEnabled' || next === null;
    const [code] = (await appendScript.run(
      this.redis,
      [this.keys.subscriptions, this.keys.versions, this.keys.log, this.keys.secrets, this.keys.failingSince],
      [
        event.subscriptionId,
        record?.version ?? 0,
        next ? JSON.stringify(next) : '',
        secrets ? JSON.stringify(secrets) : '',
        JSON.stringify(event),
        restartsFailureClock ? '1' : '',
        ifFailingSince ?? '',
      ],
    )) as [WebhookAppendCode, string];
    return [code, next];
  }
}
