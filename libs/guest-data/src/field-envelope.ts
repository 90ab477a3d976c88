import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { GuestDataError, GuestDataErrorCode } from './guest-data-error';
import { guestDataRandom } from './random-pool';

/** What sealing writes: every encrypted field value starts with this, so a field's type stays a string. */
export const TOKEN_PREFIX = 'enc:v3:';
/** The second version, still opened: `enc:v2:<header>/<iv+ciphertext+tag>`, one AES-GCM message per field. */
const V2_PREFIX = 'enc:v2:';
/** The first version, still opened: `enc:v1:<header>.<iv>.<ciphertext+tag>`, base64url parts, a field key derived for every header. */
const V1_PREFIX = 'enc:v1:';
const ANY_VERSION = 'enc:';
/** How long a group's id is, in base64url characters of its body: the first 9 bytes of its IV. */
const GROUP_ID_CHARS = 12;
/** How a header (since v2) names the mission's own subject (`mission:<id>`): the binding holds the id already. */
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

type TokenVersion = 'v1' | 'v2' | 'v3';

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
   * The key of a field sealed for `keys` (in header order) under `headerText`. A field (since v2)
   * of one subject is sealed with the subject's data key itself: a data key is random and serves only
   * that subject's fields (elsewhere it is HKDF's input, hashed, never a key), and HKDF was most
   * of what sealing cost (docs/performance.md § 3.6).
   */
  derive(version: TokenVersion, keys: readonly SubjectDataKey[], headerText: string): Buffer {
    if (version !== 'v1' && keys.length === 1) return keys[0].key;
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

/** A field to encrypt: where it is in the mission, and its plain value. */
export interface PlainField {
  readonly path: string;
  readonly value: unknown;
}

/**
 * The fields of one mission (one part of it: a create's input, an agent's output) sealed as ONE
 * AES-256-GCM message over their values' JSON array, and a token per field, in order. The first
 * field's token holds the message, `enc:v3:<header>/<iv+ciphertext+tag>` (the last part
 * base64url); each other field's names the group and its place in it, `enc:v3:<group>#<i>`
 * (`<group>`: the first 12 characters of the body, which are the IV's). The header lists
 * `subject=kid` of every subject the fields are about (`~` for the mission's own subject); with
 * several, the key is derived (HKDF) from ALL their data keys, so destroying any one of them makes
 * the fields unreadable. The AAD binds the header, the mission id and every field's path in order:
 * a group opens only with all its tokens in the fields they were sealed for. One AES-GCM operation
 * for a part's fields instead of one per field is what makes a mission's guest data cheap
 * (docs/performance.md § 3.6).
 */
export function sealFields(keys: readonly SubjectDataKey[], missionId: string, fields: readonly PlainField[], fieldKeys = new FieldKeys()): string[] {
  if (fields.length === 0) return [];
  if (keys.length === 0) throw new Error(`no data key to encrypt ${fields.map((field) => field.path).join(', ')} of mission ${missionId} with`);
  const sorted = [...keys].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  const ownSubject = OWN_SUBJECT_PREFIX + missionId;
  const headerText = sorted.map((key) => `${key.subject === ownSubject ? OWN_SUBJECT : key.subject}=${key.kid}`).join(',');
  const iv = guestDataRandom.take(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', fieldKeys.derive('v3', sorted, headerText), iv);
  cipher.setAAD(
    groupAad(
      missionId,
      headerText,
      fields.map((field) => field.path),
    ),
  );
  const values = JSON.stringify(fields.map((field) => field.value));
  const body = Buffer.concat([iv, cipher.update(values, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
  const group = body.slice(0, GROUP_ID_CHARS);
  return fields.map((_, index) => (index === 0 ? `${TOKEN_PREFIX}${headerText}/${body}` : `${TOKEN_PREFIX}${group}#${index}`));
}

/**
 * The value as a token this version reads, parsed once for openGroup or openToken; undefined for anything
 * else, also a plain value that merely starts like one (`enc:…` typed by a guest or written by a
 * model), which readers then show as it is instead of failing on it.
 */
export function readableToken(value: unknown, missionId: string): ParsedToken | undefined {
  if (!isToken(value)) return undefined;
  try {
    return parseToken(value, missionId);
  } catch (error) {
    if (error instanceof GuestDataError && error.code === GuestDataErrorCode.UnknownFormat) return undefined;
    throw error;
  }
}

/**
 * The value sealed in a token of one field (v1, v2). `keys` must hold, for each subject of the
 * header, the key with the header's kid; a missing one is the caller's erased case, not this one's.
 */
export function openToken(keys: readonly SubjectDataKey[], binding: FieldBinding, token: SealedToken, fieldKeys = new FieldKeys()): unknown {
  const plain = decrypt(keys, token, fieldAad(token.version, binding, token.headerText), fieldKeys, () => `${binding.path} of mission ${binding.missionId}`);
  return JSON.parse(plain) as unknown;
}

/**
 * The values of a group (v3) sealed by sealFields: `paths` are the fields its tokens are in, by
 * their place (the holder's first, then `#1`, `#2`, …). Keys as for openToken.
 */
export function openGroup(
  keys: readonly SubjectDataKey[],
  missionId: string,
  paths: readonly string[],
  token: SealedToken,
  fieldKeys = new FieldKeys(),
): unknown[] {
  const what = () => `${paths.join(', ')} of mission ${missionId}`;
  const values = JSON.parse(decrypt(keys, token, groupAad(missionId, token.headerText, paths), fieldKeys, what)) as unknown;
  if (!Array.isArray(values) || values.length !== paths.length) throw tampered(what());
  return values;
}

function decrypt(keys: readonly SubjectDataKey[], token: SealedToken, aad: Buffer, fieldKeys: FieldKeys, what: () => string): string {
  const ordered = token.keys.map(({ subject, kid }) => {
    const key = keys.find((candidate) => candidate.subject === subject && candidate.kid === kid);
    if (!key) throw new Error(`no data key ${kid} of subject ${subject} given to decrypt ${what()}`);
    return key;
  });
  const decipher = createDecipheriv('aes-256-gcm', fieldKeys.derive(token.version, ordered, token.headerText), token.iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(token.tag);
  try {
    return Buffer.concat([decipher.update(token.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw tampered(what());
  }
}

/** The error of a field (or group) that fails authentication; names only paths and the mission, never a value. */
export function tampered(what: string): GuestDataError {
  return new GuestDataError(GuestDataErrorCode.Tampered, `the encrypted ${what} fails authentication: it was altered, or belongs to another mission or field`);
}

/** What readableToken gives: a token that holds ciphertext, or a field's place in a group another field holds. */
export type ParsedToken = SealedToken | GroupMember;

/** A field of a v3 group other than its first: the group's id and the field's place in it (1, 2, …). */
export interface GroupMember {
  readonly kind: 'member';
  readonly group: string;
  readonly index: number;
}

/** A token parsed (see readableToken): its header's subjects and key ids, read without any key, and what openToken (openGroup for v3) needs. */
export interface SealedToken {
  readonly kind: 'sealed';
  readonly version: TokenVersion;
  /** v3: the id its group's other fields name it by. */
  readonly group?: string;
  /** The header as the AAD binds it: as written in the token (v2), decoded (v1). */
  readonly headerText: string;
  readonly keys: readonly { readonly subject: string; readonly kid: string }[];
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

const V1_TOKEN = /^enc:v1:([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const V2_TOKEN = /^enc:v2:([A-Za-z0-9._:~,=-]+)\/([A-Za-z0-9_-]+)$/;
const V3_TOKEN = /^enc:v3:([A-Za-z0-9._:~,=-]+)\/([A-Za-z0-9_-]+)$/;
const V3_MEMBER = /^enc:v3:([A-Za-z0-9_-]{12})#([1-9][0-9]{0,3})$/;

// The reasons are fixed texts: the value may be anyone's text (or a prompt injection), never echoed.
function unknownFormat(why: string): GuestDataError {
  return new GuestDataError(GuestDataErrorCode.UnknownFormat, `not an encrypted field this version reads (${why})`);
}

/** The token of mission `missionId` parsed; a GuestDataError (UnknownFormat) when it is none this version reads. */
export function parseToken(token: string, missionId: string): ParsedToken {
  if (token.startsWith(TOKEN_PREFIX)) return parseV3(token, missionId);
  if (token.startsWith(V2_PREFIX)) return parseSealed('v2', V2_TOKEN.exec(token), missionId);
  if (token.startsWith(V1_PREFIX)) return parseV1(token);
  throw unknownFormat(token.startsWith(ANY_VERSION) ? 'another version' : 'no enc:v3:, enc:v2: or enc:v1: prefix');
}

function parseV3(token: string, missionId: string): ParsedToken {
  // Only a member has a '#' (neither a header nor base64url does): the holder, with the long body, skips that pattern.
  const member = token.includes('#') ? V3_MEMBER.exec(token) : null;
  if (member) return { kind: 'member', group: member[1], index: Number(member[2]) };
  return parseSealed('v3', V3_TOKEN.exec(token), missionId);
}

/** A v2 or v3 token that holds ciphertext: `<header>/<iv+ciphertext+tag>` after its prefix, as matched. */
function parseSealed(version: 'v2' | 'v3', match: RegExpExecArray | null, missionId: string): SealedToken {
  if (!match) throw unknownFormat('expected a header, a slash and a base64url body');
  const [, headerText, encoded] = match;
  const keys = headerKeys(headerText).map(({ subject, kid }) => ({ subject: subject === OWN_SUBJECT ? OWN_SUBJECT_PREFIX + missionId : subject, kid }));
  const body = Buffer.from(encoded, 'base64url');
  if (body.length < IV_BYTES + TAG_BYTES) throw unknownFormat('bad body length');
  return {
    kind: 'sealed',
    version,
    // The group id is the start of the body (its IV), as sealFields names it.
    group: version === 'v3' ? encoded.slice(0, GROUP_ID_CHARS) : undefined,
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
  return {
    kind: 'sealed',
    version: 'v1',
    headerText,
    keys,
    iv,
    ciphertext: body.subarray(0, body.length - TAG_BYTES),
    tag: body.subarray(body.length - TAG_BYTES),
  };
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

function groupAad(missionId: string, headerText: string, paths: readonly string[]): Buffer {
  return Buffer.from(`brain:fields:v3\0${missionId}\0${headerText}\0${paths.join('\0')}`, 'utf8');
}
