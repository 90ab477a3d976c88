import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What sealing adds to the bytes it seals: the format byte, the IV and the tag. */
export const SEALED_OVERHEAD_BYTES = 1 + IV_BYTES + TAG_BYTES;

/**
 * `plain` encrypted under `key` (32 bytes, AES-256-GCM) as base64url: a `format` byte (also the
 * additional data, so a token of one kind is never opened as another), a random IV, the ciphertext
 * and the tag. For what the API hands a caller that must not read it: a client key's list cursors
 * and stream positions, which would otherwise name other keys' missions or when they were changed.
 */
export function sealBytes(format: number, plain: Buffer, key: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.of(format));
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.of(format), iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/**
 * Whether `raw` has the shape sealBytes gives bytes of `format` (at least `minPlainBytes` of them,
 * `raw` at most `maxLength` characters), in exactly the characters it writes: what someone without
 * the key can check.
 */
export function hasSealedShape(format: number, raw: string, maxLength: number, minPlainBytes = 1): boolean {
  if (raw.length === 0 || raw.length > maxLength) return false;
  const bytes = Buffer.from(raw, 'base64url');
  return bytes.length >= SEALED_OVERHEAD_BYTES + minPlainBytes && bytes[0] === format && bytes.toString('base64url') === raw;
}

/**
 * The bytes `raw` seals when one of `keys` sealed them as `format` (sealBytes), undefined for
 * anything else: another key's, a changed byte, another format, or no sealed bytes at all. Check
 * the shape first (hasSealedShape): this only opens.
 */
export function openSealedBytes(format: number, raw: string, keys: readonly Buffer[]): Buffer | undefined {
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length < SEALED_OVERHEAD_BYTES || bytes[0] !== format) return undefined;
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const sealed = bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES);
  for (const key of keys) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.of(format));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed), decipher.final()]);
    } catch {
      // Not this key's: the next one may be (a key being rotated has two).
    }
  }
  return undefined;
}
