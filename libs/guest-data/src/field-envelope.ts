import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { GuestDataError, GuestDataErrorCode } from './guest-data-error';
import { guestDataRandom } from './random-pool';

/** What sealing writes: every encrypted field value starts with this, so a field's type stays a string. */
export const TOKEN_PREFIX = 'enc:v2:';
/** The first version, still opened: `enc:v1:<header>.<iv>.<ciphertext+tag>`, base64url parts, a field key derived for every header. */
const V1_PREFIX = 'enc:v1:';
const ANY_VERSION = 'enc:';
/** How a v2 header names the mission's own subject (`mission:<id>`): the binding holds the id already. */
const OWN_SUBJECT = '~';
const OWN_SUBJECT_PREFIX = 'mission:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One subject's data key as a field is encrypted or decrypted with it. */
export interface SubjectDataKey {
  readonly subject: string;
  /** Changes when a subject's key is destroyed and a new one made: a token names the key it needs. */
  readonly kid: string;
  readonly key: Buffer;
}

/** What a field is bound to: the token cannot be moved to another mission or another field. */
export interface FieldBinding {
  readonly missionId: string;
  /** The field's path in the mission, e.g. `payload.guest.email`. */
  readonly path: string;
}

type TokenVersion = 'v1' | 'v2';

/**
 * The field keys of one batch of fields (one mission's, in one call): a key derived from several
 * subjects' keys (HKDF) is derived once for the batch, not once per field. A derived key is reused
 * only with the very data keys it came from: the same header with other key bytes (a wrong master
 * key) derives again.
 */
export class FieldKeys {
  private readonly held = new Map<string, { from: readonly Buffer[]; key: Buffer }>();
  private derivations = 0;

  /**
   * The key of a field sealed for `keys` (in header order) under `headerText`. A v2 field of one
   * subject is sealed with the subject's data key itself: a data key is random and serves only
   * that subject's fields (elsewhere it is HKDF's input, hashed, never a key), and HKDF was most
   * of what sealing cost (docs/performance.md § 3.6).
   */
  derive(version: TokenVersion, keys: readonly SubjectDataKey[], headerText: string): Buffer {
    if (version === 'v2' && keys.length === 1) return keys[0].key;
    const info = `brain:field-key:${version}\0${headerText}`;
    const held = this.held.get(info);
    if (held && held.from.length === keys.length && held.from.every((from, i) => from.equals(keys[i].key))) return held.key;
    const key = Buffer.from(hkdfSync('sha256', Buffer.concat(keys.map((data) => data.key)), Buffer.alloc(0), info, 32));
    this.held.set(info, { from: keys.map((data) => data.key), key });
    this.derivations += 1;
    return key;
  }

  /** How many keys were derived (HKDF runs) so far. */
  get derived(): number {
    return this.derivations;
  }
}

export function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ANY_VERSION);
}

/**
 * AES-256-GCM over the value's JSON, as `enc:v2:<header>/<iv+ciphertext+tag>` (the last part
 * base64url). The header lists `subject=kid` of every subject the field is about (`~` for the
 * mission's own subject); with several, the key is derived (HKDF) from ALL their data keys, so
 * destroying any one of them makes the field unreadable. The AAD binds the header, the mission id
 * and the field path.
 */
export function sealField(keys: readonly SubjectDataKey[], binding: FieldBinding, value: unknown, fieldKeys = new FieldKeys()): string {
  if (keys.length === 0) throw new Error(`no data key to encrypt ${binding.path} of mission ${binding.missionId} with`);
  const sorted = [...keys].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  const ownSubject = OWN_SUBJECT_PREFIX + binding.missionId;
  const headerText = sorted.map((key) => `${key.subject === ownSubject ? OWN_SUBJECT : key.subject}=${key.kid}`).join(',');
  const iv = guestDataRandom.take(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', fieldKeys.derive('v2', sorted, headerText), iv);
  cipher.setAAD(fieldAad('v2', binding, headerText));
  const body = Buffer.concat([iv, cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${TOKEN_PREFIX}${headerText}/${body.toString('base64url')}`;
}

/**
 * The value as a token this version reads, parsed once for openToken; undefined for anything
 * else, also a plain value that merely starts like one (`enc:…` typed by a guest or written by a
 * model), which readers then show as it is instead of failing on it.
 */
export function readableToken(value: unknown, missionId: string): SealedToken | undefined {
  if (!isToken(value)) return undefined;
  try {
    return parseToken(value, missionId);
  } catch (error) {
    if (error instanceof GuestDataError && error.code === GuestDataErrorCode.UnknownFormat) return undefined;
    throw error;
  }
}

/**
 * The value sealed in the token (either version). `keys` must hold, for each subject of the
 * header, the key with the header's kid; a missing one is the caller's erased case, not this one's.
 */
export function openToken(keys: readonly SubjectDataKey[], binding: FieldBinding, token: SealedToken, fieldKeys = new FieldKeys()): unknown {
  const ordered = token.keys.map(({ subject, kid }) => {
    const key = keys.find((candidate) => candidate.subject === subject && candidate.kid === kid);
    if (!key) throw new Error(`no data key ${kid} of subject ${subject} given to decrypt ${binding.path} of mission ${binding.missionId}`);
    return key;
  });
  const decipher = createDecipheriv('aes-256-gcm', fieldKeys.derive(token.version, ordered, token.headerText), token.iv);
  decipher.setAAD(fieldAad(token.version, binding, token.headerText));
  decipher.setAuthTag(token.tag);
  let plain: string;
  try {
    plain = Buffer.concat([decipher.update(token.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new GuestDataError(
      GuestDataErrorCode.Tampered,
      `the encrypted ${binding.path} of mission ${binding.missionId} fails authentication: it was altered, or belongs to another mission or field`,
    );
  }
  return JSON.parse(plain) as unknown;
}

/** A token parsed (see readableToken): its header's subjects and key ids, read without any key, and what openToken needs. */
export interface SealedToken {
  readonly version: TokenVersion;
  /** The header as the AAD binds it: as written in the token (v2), decoded (v1). */
  readonly headerText: string;
  readonly keys: readonly { readonly subject: string; readonly kid: string }[];
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

const V1_TOKEN = /^enc:v1:([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const V2_TOKEN = /^enc:v2:([A-Za-z0-9._:~,=-]+)\/([A-Za-z0-9_-]+)$/;

// The reasons are fixed texts: the value may be anyone's text (or a prompt injection), never echoed.
function unknownFormat(why: string): GuestDataError {
  return new GuestDataError(GuestDataErrorCode.UnknownFormat, `not an encrypted field this version reads (${why})`);
}

/** The token of mission `missionId` parsed; a GuestDataError (UnknownFormat) when it is none this version reads. */
export function parseToken(token: string, missionId: string): SealedToken {
  if (token.startsWith(TOKEN_PREFIX)) return parseV2(token, missionId);
  if (token.startsWith(V1_PREFIX)) return parseV1(token);
  throw unknownFormat(token.startsWith(ANY_VERSION) ? 'another version' : 'no enc:v2: or enc:v1: prefix');
}

function parseV2(token: string, missionId: string): SealedToken {
  const match = V2_TOKEN.exec(token);
  if (!match) throw unknownFormat('expected a header, a slash and a base64url body');
  const [, headerText, encoded] = match;
  const keys = headerKeys(headerText).map(({ subject, kid }) => ({ subject: subject === OWN_SUBJECT ? OWN_SUBJECT_PREFIX + missionId : subject, kid }));
  const body = Buffer.from(encoded, 'base64url');
  if (body.length < IV_BYTES + TAG_BYTES) throw unknownFormat('bad body length');
  return {
    version: 'v2',
    headerText,
    keys,
    iv: body.subarray(0, IV_BYTES),
    ciphertext: body.subarray(IV_BYTES, body.length - TAG_BYTES),
    tag: body.subarray(body.length - TAG_BYTES),
  };
}

function parseV1(token: string): SealedToken {
  const match = V1_TOKEN.exec(token);
  if (!match) throw unknownFormat('expected three base64url parts');
  const headerText = Buffer.from(match[1], 'base64url').toString('utf8');
  const iv = Buffer.from(match[2], 'base64url');
  const body = Buffer.from(match[3], 'base64url');
  const keys = headerKeys(headerText);
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw unknownFormat('bad iv or body length');
  return { version: 'v1', headerText, keys, iv, ciphertext: body.subarray(0, body.length - TAG_BYTES), tag: body.subarray(body.length - TAG_BYTES) };
}

function headerKeys(headerText: string): { subject: string; kid: string }[] {
  return headerText.split(',').map((entry) => {
    const [subject, kid, extra] = entry.split('=');
    if (!subject || !kid || extra !== undefined) throw unknownFormat('bad header');
    return { subject, kid };
  });
}

function fieldAad(version: TokenVersion, binding: FieldBinding, headerText: string): Buffer {
  return Buffer.from(`brain:field:${version}\0${binding.missionId}\0${binding.path}\0${headerText}`, 'utf8');
}
