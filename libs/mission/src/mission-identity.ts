import { createHash } from 'node:crypto';
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
import { MissionCreateDto } from './mission-create.dto';

/** Namespace for mission ids derived from deduplication keys (uuid v5). */
const DEDUPLICATED_ID_NAMESPACE = '0f3c2a52-7d1e-4a8b-9c55-6b1f0e2d9a71';

/**
 * What makes two submissions the same mission: the caller's idempotency key, else the ERP record
 * the mission came from; none when neither is given.
 */
export function deduplicationKey(input: Pick<MissionCreateDto, 'source'>, idempotencyKey: string | undefined): string | undefined {
  const raw = idempotencyKey
    ? `key:${idempotencyKey}`
    : input.source
      ? `source:${input.source.system}:${input.source.model}:${input.source.recordId}`
      : undefined;
  return raw ? createHash('sha256').update(raw).digest('hex') : undefined;
}

/**
 * A new mission's id. With a deduplication key the id is derived from it, so every submission of
 * the same mission names the same id - and so the same log partition, where the key is checked.
 */
export function missionIdFor(input: Pick<MissionCreateDto, 'source'>, idempotencyKey: string | undefined): string {
  const key = deduplicationKey(input, idempotencyKey);
  return key ? uuidv5(key, DEDUPLICATED_ID_NAMESPACE) : uuidv7();
}
