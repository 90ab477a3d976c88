import { createHash } from 'node:crypto';
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
import { canonicalJson } from './canonical-json';
import { MissionCreateDto } from './mission-create.dto';

/** Namespace for mission ids derived from deduplication keys (uuid v5). */
const DEDUPLICATED_ID_NAMESPACE = '0f3c2a52-7d1e-4a8b-9c55-6b1f0e2d9a71';

/**
 * Whose keys these are. An idempotency key (and an ERP source record) names a mission only within
 * its sender's scope, so one client cannot claim - or learn about - another's keys.
 */
export type SubmitterScope = string;

/**
 * An idempotency key as every sender gives it, over HTTP or the stream: 1 to 200 visible ASCII
 * characters.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * A correlation id as every sender gives it: an idempotency key's characters but `@`. Unlike the
 * key (kept as a hash), it is kept in plain on each of the mission's events and log lines, outside
 * every subject's key: an e-mail address there would outlive the guest's erasure and be shown to
 * every key, a reader's too.
 */
export const CORRELATION_ID_PATTERN = /^[\x21-\x3f\x41-\x7e]{1,200}$/;

/** Why a correlation id is refused, in the words of each sender's check. */
export const CORRELATION_ID_RULE = '1 to 200 visible ASCII characters other than @';

/** The scope of a REST client: its API key's name. */
export function apiScope(apiKeyName: string): SubmitterScope {
  return `api:${apiKeyName}`;
}

/** The scope of every `mission.submit` command on the intake stream (internal services). */
export const SUBMISSION_STREAM_SCOPE: SubmitterScope = 'stream';

/**
 * What makes two submissions the same mission: the caller's idempotency key, else the ERP record
 * the mission came from, each within the sender's scope; none when neither is given. The parts
 * are encoded as a JSON array, so no choice of system, model or key can spell another's parts
 * (`"odoo:x","y"` is not `"odoo","x:y"`).
 */
export function deduplicationKey(scope: SubmitterScope, input: Pick<MissionCreateDto, 'source'>, idempotencyKey: string | undefined): string | undefined {
  if (idempotencyKey) return idempotencyDeduplicationKey(scope, idempotencyKey);
  return input.source ? hashOfParts(['source', scope, input.source.system, input.source.model, input.source.recordId]) : undefined;
}

/** The deduplication key of a create with an idempotency key, for a caller that gives one (deduplicationKey). */
export function idempotencyDeduplicationKey(scope: SubmitterScope, idempotencyKey: string): string {
  return hashOfParts(['key', scope, idempotencyKey]);
}

function hashOfParts(parts: readonly (string | number)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * A new mission's id. With a deduplication key the id is derived from it (uuid v5), so every
 * submission of the same mission names the same id - and so the same log partition, where the
 * key is checked.
 */
export function missionIdFor(scope: SubmitterScope, input: Pick<MissionCreateDto, 'source'>, idempotencyKey: string | undefined): string {
  const key = deduplicationKey(scope, input, idempotencyKey);
  return key ? missionIdForKey(key) : uuidv7();
}

/**
 * The idempotency record of a mission whose id its sender named (a stream command's `missionId`,
 * without a key or source): it holds the body's fingerprint, so the same id sent again with
 * another body is refused instead of being taken for a redelivery.
 */
export function namedIdKey(missionId: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['id', missionId]))
    .digest('hex');
}

/** The id a deduplication key (deduplicationKey) derives: missionIdFor, for a caller that has the key already. */
export function missionIdForKey(key: string): string {
  return uuidv5(key, DEDUPLICATED_ID_NAMESPACE);
}

/**
 * The id of a mission submitted on a stream without an id, key or source: uuid v5 of the stream
 * entry, so a redelivery of the same entry (its reply lost, or the intake killed before the ack)
 * names the same mission and creates nothing twice. A dedup key is a SHA-256 hex, so the names
 * never meet.
 */
export function missionIdForStreamEntry(stream: string, entryId: string): string {
  return uuidv5(`stream-entry\0${stream}\0${entryId}`, DEDUPLICATED_ID_NAMESPACE);
}

/**
 * The create body as its idempotency fingerprints hash it: canonical JSON (keys sorted). A
 * top-level field sent as null is left out, as canonicalJson leaves out undefined: in a create,
 * null stands for a field left out, so a retry that sends `"deadline": null` is the same body (it
 * was a 422). Only optional fields can be null here (validation refuses a null required field), and
 * a body without nulls reads as it always did, so stored records still match.
 */
export function canonicalCreateBody(input: MissionCreateDto): string {
  return canonicalJson(givenFields(input));
}

/** The create without its top-level fields sent as null: null stands for a field left out. */
export function givenFields(input: MissionCreateDto): MissionCreateDto {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null)) as MissionCreateDto;
}

/**
 * SHA-256 of canonicalCreateBody: the fingerprint idempotency records held before it was keyed by
 * the master key (`@app/guest-data` createFingerprints). Still accepted from a stored record, never
 * stored again: unsalted, it lets whoever holds a Redis dump confirm a guess of the whole body.
 */
export function plainBodyFingerprint(input: MissionCreateDto): string {
  return plainFingerprintOf(canonicalCreateBody(input));
}

/** plainBodyFingerprint of a body already in its canonical form (canonicalCreateBody), which a create makes once. */
export function plainFingerprintOf(canonicalBody: string): string {
  return createHash('sha256').update(canonicalBody).digest('hex');
}
