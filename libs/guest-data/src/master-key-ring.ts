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

/** A secret sealed under a master key (MasterKeyRing.seal), which it names. */
export interface SealedSecret {
  /** base64url of iv | ciphertext | tag. */
  readonly sealed: string;
  /** The id of the master key it is sealed under. */
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
    return { wrapped: this.encrypt(wrapAad(subject, kid), dataKey), mk: this.current.id };
  }

  unwrap(subject: string, kid: string, stored: WrappedDataKey): Buffer {
    const master = this.byId.get(stored.mk);
    if (!master) throw new WrongMasterKeyError(stored.mk, this.ids);
    const raw = Buffer.from(stored.wrapped, 'base64url');
    if (raw.length !== IV_BYTES + 32 + TAG_BYTES) {
      throw new GuestDataError(
        GuestDataErrorCode.UnknownFormat,
        `the wrapped data key of subject ${subject} has ${raw.length} bytes, not ${IV_BYTES + 32 + TAG_BYTES}`,
      );
    }
    return decrypt(master.key, wrapAad(subject, kid), raw, `the wrapped data key of subject ${subject} (master key ${stored.mk})`);
  }

  /**
   * A secret other than a data key (a webhook signing secret) sealed under the current master key
   * as a data key is wrapped, bound to `purpose` and `owner` (what it is, and whose), so it cannot
   * be moved to another owner nor pass for a wrapped data key.
   */
  seal(purpose: string, owner: string, secret: Buffer): SealedSecret {
    return { sealed: this.encrypt(sealAad(purpose, owner), secret), mk: this.current.id };
  }

  /**
   * The secret `seal` sealed, under whichever master key of the ring it names. Throws a
   * WrongMasterKeyError when that key is not configured, a GuestDataError `tampered` when the
   * ciphertext was altered or moved to another owner.
   */
  open(purpose: string, owner: string, stored: SealedSecret): Buffer {
    const what = `the ${purpose} of ${owner}`;
    const master = this.byId.get(stored.mk);
    if (!master) throw new WrongMasterKeyError(stored.mk, this.ids, what);
    const raw = Buffer.from(stored.sealed, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) throw new GuestDataError(GuestDataErrorCode.UnknownFormat, `${what} has ${raw.length} bytes, too few to be sealed`);
    return decrypt(master.key, sealAad(purpose, owner), raw, `${what} (master key ${stored.mk})`);
  }

  /** base64url of iv | AES-256-GCM ciphertext | tag, under the current master key. */
  private encrypt(aad: Buffer, plain: Buffer): string {
    const iv = guestDataRandom.take(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }
}

/** The plain text of `raw` (iv | ciphertext | tag), or a GuestDataError `tampered` naming `what`. */
function decrypt(key: Buffer, aad: Buffer, raw: Buffer, what: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new GuestDataError(GuestDataErrorCode.Tampered, `${what} fails authentication: it was altered`);
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

/** Binds a sealed secret to what it is and whose; a prefix of its own, so it never equals a data key's. */
function sealAad(purpose: string, owner: string): Buffer {
  return Buffer.from(`brain:sealed-secret:v1\0${purpose}\0${owner}`, 'utf8');
}
