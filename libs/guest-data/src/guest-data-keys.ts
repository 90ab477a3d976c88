import { hashString } from '@app/mission';

/**
 * Partitions of the subject-key keyspace. Fixed, not LOG_PARTITIONS: a subject's key must stay
 * where it is when the log is partitioned anew. Each hash is one Redis Cluster slot.
 */
export const SUBJECT_KEY_PARTITIONS = 16;

/** The Redis keys of guest data: the subjects' wrapped data keys, `<prefix>{g<i>}:subject-keys`, each a hash subject -> record JSON. */
export class GuestDataKeys {
  /** Every subject-key hash, by partition index: what an export enumerates. */
  readonly subjectKeyHashes: readonly string[];

  constructor(readonly prefix: string) {
    this.subjectKeyHashes = Array.from({ length: SUBJECT_KEY_PARTITIONS }, (_, index) => `${prefix}{g${index}}:subject-keys`);
  }

  /** The hash that holds the subject's wrapped data key. */
  subjectKeys(subject: string): string {
    return this.subjectKeyHashes[hashString(subject) % SUBJECT_KEY_PARTITIONS];
  }
}
