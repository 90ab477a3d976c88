import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { GuestDataError, GuestDataErrorCode, WrongMasterKeyError } from './guest-data-error';
import { guestDataRandom } from './random-pool';

/** Shortest accepted master secret: 32 characters (a base64url of 24 random bytes or more). */
export const MIN_MASTER_SECRET_LENGTH = 32;

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A master key: 32 bytes derived from a configured secret, and the id wrapped keys record it by. */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A data key as stored: wrapped (encrypted) under a master key, which it names. */
export interface WrappedDataKey {
  /** base64url of iv | ciphertext | tag. */
  readonly wrapped: string;
  /** The id of the master key it is wrapped under. */
  readonly mk: string;
}

export function masterKeyFromSecret(secret: string): MasterKey {
  if (secret.length < MIN_MASTER_SECRET_LENGTH) {
    throw new GuestDataError(GuestDataErrorCode.BadMasterKey, `a master key secret needs at least ${MIN_MASTER_SECRET_LENGTH} characters`);
  }
  // HKDF, so a secret typed by a person and one of random bytes both give a uniform 256-bit key.
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'brain:master-key', 'v1', 32));
  // A hash of the key, not of the secret: it tells keys apart and reveals nothing usable.
  const id = `mk-${createHash('sha256').update('brain:master-key-id').update(key).digest('hex').slice(0, 16)}`;
  return { id, key };
}

/**
 * The current master key, which wraps every new data key, and the previous ones, which only
 * unwrap during a rotation until `rewrap` has moved every data key to the current one.
 */
export class MasterKeyRing {
  private readonly byId = new Map<string, MasterKey>();
  /** The fingerprint key of each master key, in the order of `ids`: derived once, used for every create. */
  private readonly fingerprintKeys: Buffer[];

  constructor(
    readonly current: MasterKey,
    readonly previous: readonly MasterKey[] = [],
  ) {
    for (const key of [current, ...previous]) if (!this.byId.has(key.id)) this.byId.set(key.id, key);
    this.fingerprintKeys = [...this.byId.values()].map(fingerprintKeyOf);
  }

  static fromSecrets(current: string, previous: readonly string[] = []): MasterKeyRing {
    return new MasterKeyRing(masterKeyFromSecret(current), previous.map(masterKeyFromSecret));
  }

  /** The ids of every master key this ring can unwrap with, the current first. */
  get ids(): string[] {
    return [...this.byId.keys()];
  }

  /**
   * HMAC-SHA256 of `text` (hex) under each master key's fingerprint key, the current one's first: a
   * digest that only a holder of the master key can compute, so a Redis dump alone cannot confirm
   * a guess of the text. The previous keys' let a digest stored before a rotation still be matched.
   */
  fingerprints(text: string): string[] {
    return this.fingerprintKeys.map((key) => createHmac('sha256', key).update(text, 'utf8').digest('hex'));
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  wrap(subject: string, kid: string, dataKey: Buffer): WrappedDataKey {
    const iv = guestDataRandom.take(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(wrapAad(subject, kid));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { wrapped: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url'), mk: this.current.id };
  }

  unwrap(subject: string, kid: string, stored: WrappedDataKey): Buffer {
    const master = this.byId.get(stored.mk);
    if (!master) throw new WrongMasterKeyError(subject, stored.mk, this.ids);
    const raw = Buffer.from(stored.wrapped, 'base64url');
    if (raw.length !== IV_BYTES + 32 + TAG_BYTES) {
      throw new GuestDataError(
        GuestDataErrorCode.UnknownFormat,
        `the wrapped data key of subject ${subject} has ${raw.length} bytes, not ${IV_BYTES + 32 + TAG_BYTES}`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', master.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(wrapAad(subject, kid));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new GuestDataError(
        GuestDataErrorCode.Tampered,
        `the wrapped data key of subject ${subject} (master key ${stored.mk}) fails authentication: it was altered`,
      );
    }
  }
}

/**
 * The key a master key fingerprints with: HKDF under a label of its own, so a fingerprint reveals
 * nothing about the key that wraps the data keys, and neither key can stand in for the other.
 */
function fingerprintKeyOf(master: MasterKey): Buffer {
  return Buffer.from(hkdfSync('sha256', master.key, '', 'brain idempotency fingerprint v1', 32));
}

/** Binds a wrapped key to its subject and key id, so it cannot be copied to another subject. */
function wrapAad(subject: string, kid: string): Buffer {
  return Buffer.from(`brain:data-key:v1\0${subject}\0${kid}`, 'utf8');
}
