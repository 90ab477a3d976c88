import { FieldBinding, FieldKeys, openToken, readableToken, SealedToken, sealField, SubjectDataKey } from './field-envelope';
import { SubjectKeyStore } from './subject-key-store';

/** What an API response, a history or a webhook shows for a personal field whose subject was erased. */
export const ERASED_MARKER = '[erased]';

/** A field to encrypt: where it is in the mission, and its plain value. */
export interface PlainField {
  readonly path: string;
  readonly value: unknown;
}

/** A field to decrypt: where it is in the mission, and its stored value (a token, or a value that was never encrypted). */
export interface StoredField {
  readonly path: string;
  readonly value: unknown;
}

/**
 * Encrypts and decrypts a mission's personal fields with its subjects' data keys, fetching each
 * key once per call: sealing reads the key records from Redis (one read per call), opening takes
 * them from the process cache when it can; never one round trip per field.
 */
export class GuestDataCipher {
  constructor(readonly store: SubjectKeyStore) {}

  /**
   * Seals each field for all of `subjects`, in order. Their keys are made if they have none, even
   * for no fields: a create makes the keys its mission's later data is sealed with.
   */
  async seal(missionId: string, subjects: readonly string[], fields: readonly PlainField[]): Promise<string[]> {
    return sealEach(await this.store.keysFor(subjects), missionId, fields, new FieldKeys());
  }

  /**
   * Seals each field for all of `subjects` with the keys they have now, never making one: for data
   * that arrives after the create (an agent's output, a reviewer's edit). Null when a subject has
   * no key, i.e. was erased meanwhile: the caller then stores ERASED_MARKER, so an erasure is never
   * undone by a late result bringing a new key to life.
   */
  async sealWithExistingKeys(missionId: string, subjects: readonly string[], fields: readonly PlainField[]): Promise<string[] | null> {
    if (fields.length === 0) return [];
    return this.sealWith(await this.store.currentKeys(subjects), missionId, subjects, fields);
  }

  /**
   * The keys `subjects` have in Redis now, read once (never the cache alone), for work that opens
   * and then seals with the same keys: an executor's attempt (see openWith, sealWith).
   */
  async currentKeys(subjects: readonly string[]): Promise<ReadonlyMap<string, SubjectDataKey>> {
    return this.store.currentKeys(subjects);
  }

  /**
   * sealWithExistingKeys with keys read before (currentKeys): null when a subject has none among
   * them. `fieldKeys` shared with an openWith of the same keys derives the field key once.
   */
  sealWith(
    found: ReadonlyMap<string, SubjectDataKey>,
    missionId: string,
    subjects: readonly string[],
    fields: readonly PlainField[],
    fieldKeys = new FieldKeys(),
  ): string[] | null {
    const keys = subjects.map((subject) => found.get(subject));
    if (keys.some((key) => key === undefined)) return null;
    return sealEach(
      keys.filter((key) => key !== undefined),
      missionId,
      fields,
      fieldKeys,
    );
  }

  /**
   * The plain value of each field, in order: a token whose subjects' keys all still exist opens;
   * one whose key was destroyed (erased) reads ERASED_MARKER; a value that is no token, also one
   * that only starts like one, is returned as it is (data from before encryption). A tampered or
   * moved token throws GuestDataError. The `erased` subjects (those the mission records as erased)
   * read ERASED_MARKER even when their key is there, e.g. brought back by an import.
   */
  async open(missionId: string, fields: readonly StoredField[], erased: readonly string[] = []): Promise<unknown[]> {
    const tokens = fields.map((field) => readableToken(field.value, missionId));
    const subjects = [...new Set(tokens.flatMap((token) => token?.keys.map((key) => key.subject) ?? []))].filter((subject) => !erased.includes(subject));
    const keys = subjects.length > 0 ? await this.store.existingKeys(subjects) : new Map<string, SubjectDataKey>();
    return openEach(keys, missionId, fields, tokens, erased, new FieldKeys());
  }

  /** open with keys read before (currentKeys): a subject absent from them reads ERASED_MARKER. */
  openWith(
    keys: ReadonlyMap<string, SubjectDataKey>,
    missionId: string,
    fields: readonly StoredField[],
    erased: readonly string[] = [],
    fieldKeys = new FieldKeys(),
  ): unknown[] {
    return openEach(
      keys,
      missionId,
      fields,
      fields.map((field) => readableToken(field.value, missionId)),
      erased,
      fieldKeys,
    );
  }

  /** Destroys the subject's data key: every field sealed for it reads ERASED_MARKER from now on. */
  async erase(subject: string): Promise<boolean> {
    return this.store.destroy(subject);
  }
}

/** Each field sealed for all `keys`: one field key for all of them (FieldKeys). */
function sealEach(keys: readonly SubjectDataKey[], missionId: string, fields: readonly PlainField[], fieldKeys: FieldKeys): string[] {
  return fields.map((field) => sealField(keys, binding(missionId, field.path), field.value, fieldKeys));
}

function openEach(
  keys: ReadonlyMap<string, SubjectDataKey>,
  missionId: string,
  fields: readonly StoredField[],
  tokens: readonly (SealedToken | undefined)[],
  erased: readonly string[],
  fieldKeys: FieldKeys,
): unknown[] {
  return fields.map((field, index) => {
    const token = tokens[index];
    if (!token) return field.value;
    const needed = token.keys.map(({ subject, kid }) => {
      const key = erased.includes(subject) ? undefined : keys.get(subject);
      return key?.kid === kid ? key : undefined;
    });
    if (needed.some((key) => key === undefined)) return ERASED_MARKER;
    return openToken(
      needed.filter((key) => key !== undefined),
      binding(missionId, field.path),
      token,
      fieldKeys,
    );
  });
}

function binding(missionId: string, path: string): FieldBinding {
  return { missionId, path };
}
