import { canonicalCreateBody, MissionCreateDto, plainFingerprintOf } from '@app/mission';
import { MasterKeyRing } from './master-key-ring';

/** A create body's idempotency fingerprints: the one its record stores, and those a stored record may hold for the same body. */
export interface CreateFingerprints {
  /** Stored with the idempotency record: HMAC-SHA256 of the canonical body under the current master key. */
  fingerprint: string;
  /**
   * The same body as records written earlier fingerprint it, matched but never stored: under each
   * previous master key (a record made before a rotation), and the plain SHA-256 (a record made
   * before fingerprints were keyed).
   */
  formerFingerprints: string[];
}

/**
 * The fingerprints of a create body (canonicalCreateBody) under the master keys of `ring`. Keyed,
 * because the body holds guests' names, e-mails and words in a templated, guessable shape, and its
 * record outlives their erasure: a plain hash would let a Redis dump confirm a guess of it.
 */
export function createFingerprints(ring: MasterKeyRing, input: MissionCreateDto): CreateFingerprints {
  const canonical = canonicalCreateBody(input);
  const [fingerprint, ...underPrevious] = ring.fingerprints(canonical);
  return { fingerprint, formerFingerprints: [...underPrevious, plainFingerprintOf(canonical)] };
}
