import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { GuestDataError, GuestDataErrorCode } from './guest-data-error';

/** Every encrypted field value starts with this, so a field's type stays a string. */
export const TOKEN_PREFIX = 'enc:v1:';
const ANY_VERSION = 'enc:';
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

/** The subjects (with their key ids) a token needs, read from the token without any key. */
export interface TokenHeader {
  readonly keys: readonly { readonly subject: string; readonly kid: string }[];
}

export function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ANY_VERSION);
}

/**
 * AES-256-GCM over the value's JSON, as `enc:v1:<header>.<iv>.<ciphertext+tag>` (base64url
 * parts). The header names the subjects and key ids; the key is derived (HKDF) from ALL their
 * data keys, so destroying any one of them makes the field unreadable. The AAD binds the header,
 * the mission id and the field path.
 */
export function sealField(keys: readonly SubjectDataKey[], binding: FieldBinding, value: unknown): string {
  if (keys.length === 0) throw new Error(`no data key to encrypt ${binding.path} of mission ${binding.missionId} with`);
  const sorted = [...keys].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  const headerText = sorted.map((key) => `${key.subject}=${key.kid}`).join(',');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', fieldKey(sorted, headerText), iv);
  cipher.setAAD(fieldAad(binding, headerText));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${TOKEN_PREFIX}${Buffer.from(headerText, 'utf8').toString('base64url')}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** The subjects and key ids a token was sealed for. */
export function tokenHeader(token: string): TokenHeader {
  return { keys: parse(token).keys };
}

/**
 * The header of a value that is a token this version reads; undefined for anything else, also a
 * plain value that merely starts like one (`enc:…` typed by a guest or written by a model), which
 * readers then show as it is instead of failing on it.
 */
export function readableTokenHeader(value: unknown): TokenHeader | undefined {
  if (!isToken(value)) return undefined;
  try {
    return tokenHeader(value);
  } catch (error) {
    if (error instanceof GuestDataError && error.code === GuestDataErrorCode.UnknownFormat) return undefined;
    throw error;
  }
}

/**
 * The value sealed in the token. `keys` must hold, for each subject of the header, the key with
 * the header's kid (see tokenHeader); a missing one is the caller's erased case, not this one's.
 */
export function openField(keys: readonly SubjectDataKey[], binding: FieldBinding, token: string): unknown {
  const parsed = parse(token);
  const ordered = parsed.keys.map(({ subject, kid }) => {
    const key = keys.find((candidate) => candidate.subject === subject && candidate.kid === kid);
    if (!key) throw new Error(`no data key ${kid} of subject ${subject} given to decrypt ${binding.path} of mission ${binding.missionId}`);
    return key;
  });
  const decipher = createDecipheriv('aes-256-gcm', fieldKey(ordered, parsed.headerText), parsed.iv);
  decipher.setAAD(fieldAad(binding, parsed.headerText));
  decipher.setAuthTag(parsed.body.subarray(parsed.body.length - TAG_BYTES));
  let plain: string;
  try {
    plain = Buffer.concat([decipher.update(parsed.body.subarray(0, parsed.body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new GuestDataError(
      GuestDataErrorCode.Tampered,
      `the encrypted ${binding.path} of mission ${binding.missionId} fails authentication: it was altered, or belongs to another mission or field`,
    );
  }
  return JSON.parse(plain) as unknown;
}

interface ParsedToken {
  headerText: string;
  keys: { subject: string; kid: string }[];
  iv: Buffer;
  body: Buffer;
}

const PART = /^[A-Za-z0-9_-]+$/;

// The reasons are fixed texts: the value may be anyone's text (or a prompt injection), never echoed.
function parse(token: string): ParsedToken {
  const unknown = (why: string) => new GuestDataError(GuestDataErrorCode.UnknownFormat, `not an encrypted field this version reads (${why})`);
  if (!token.startsWith(TOKEN_PREFIX)) throw unknown(token.startsWith(ANY_VERSION) ? 'another version' : 'no enc:v1: prefix');
  const parts = token.slice(TOKEN_PREFIX.length).split('.');
  if (parts.length !== 3 || !parts.every((part) => PART.test(part))) throw unknown('expected three base64url parts');
  const headerText = Buffer.from(parts[0], 'base64url').toString('utf8');
  const keys = headerText.split(',').map((entry) => {
    const [subject, kid, extra] = entry.split('=');
    if (!subject || !kid || extra !== undefined) throw unknown('bad header');
    return { subject, kid };
  });
  const iv = Buffer.from(parts[1], 'base64url');
  const body = Buffer.from(parts[2], 'base64url');
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw unknown('bad iv or body length');
  return { headerText, keys, iv, body };
}

function fieldKey(keys: readonly SubjectDataKey[], headerText: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.concat(keys.map((key) => key.key)), Buffer.alloc(0), `brain:field-key:v1\0${headerText}`, 32));
}

function fieldAad(binding: FieldBinding, headerText: string): Buffer {
  return Buffer.from(`brain:field:v1\0${binding.missionId}\0${binding.path}\0${headerText}`, 'utf8');
}
