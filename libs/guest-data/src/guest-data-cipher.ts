import {
  FieldKeys,
  GroupMember,
  openGroup,
  openToken,
  ParsedToken,
  PlainField,
  readableToken,
  SealedToken,
  sealFields,
  SubjectDataKey,
  tampered,
} from './field-envelope';
import { SubjectKeyStore } from './subject-key-store';

/** What an API response, a history or a webhook shows for a personal field whose subject was erased. */
export const ERASED_MARKER = '[erased]';

/** A field to decrypt: where it is in the mission, and its stored value (a token, or a value that was never encrypted). */
export interface StoredField {
  readonly path: string;
  readonly value: unknown;
  /**
   * Which part of the mission the field is in (its input, its result's output, a reviewer's
   * replaced output), where parts bind the same paths: a group's fields must all be in one part.
   */
  readonly part?: number;
}

/**
 * Encrypts and decrypts a mission's personal fields with its subjects' data keys, fetching each
 * key once per call: sealing reads the key records from Redis (one read per call), opening takes
 * them from the process cache when it can; never one round trip per field.
 */
export class GuestDataCipher {
  constructor(readonly store: SubjectKeyStore) {}

  /**
   * The fields sealed for all of `subjects` as one group (sealFields), a token each, in order.
   * Their keys are made if they have none, even
   * for no fields: a create makes the keys its mission's later data is sealed with.
   */
  async seal(missionId: string, subjects: readonly string[], fields: readonly PlainField[]): Promise<string[]> {
    return sealFields(await this.store.keysFor(subjects), missionId, fields);
  }

  /**
   * The fields sealed as seal does, with the keys `subjects` have now, never making one: for data
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
    return sealFields(
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
    const subjects = [...new Set(tokens.flatMap((token) => (token?.kind === 'sealed' ? token.keys.map((key) => key.subject) : [])))].filter(
      (subject) => !erased.includes(subject),
    );
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

/**
 * Each field's plain value, in order. A v3 group is opened once, with its other fields found by
 * the group id their tokens name (a mission may hold several groups: its input, its result's
 * output, a reviewer's replaced output); a field that names a group none of the fields holds, a
 * group whose places are not 1, 2, … each once, or one spread over two parts, was tampered with.
 * Where no field holds any ciphertext, a value shaped like a member is plain text that only looks
 * like one (written before encryption), shown as it is like any other look-alike.
 */
function openEach(
  keys: ReadonlyMap<string, SubjectDataKey>,
  missionId: string,
  fields: readonly StoredField[],
  tokens: readonly (ParsedToken | undefined)[],
  erased: readonly string[],
  fieldKeys: FieldKeys,
): unknown[] {
  const values = fields.map((field) => field.value);
  const members = new Map<string, { member: GroupMember; at: number }[]>();
  tokens.forEach((token, at) => {
    if (token?.kind === 'member') members.set(token.group, [...(members.get(token.group) ?? []), { member: token, at }]);
  });
  tokens.forEach((token, at) => {
    if (token?.kind !== 'sealed') return;
    const needed = keysOf(token, keys, erased);
    if (token.version !== 'v3') {
      values[at] = needed ? openToken(needed, { missionId, path: fields[at].path }, token, fieldKeys) : ERASED_MARKER;
      return;
    }
    const group = groupPlaces(at, members.get(token.group ?? '') ?? [], fields, missionId);
    members.delete(token.group ?? '');
    const opened = needed
      ? openGroup(
          needed,
          missionId,
          group.map((place) => fields[place].path),
          token,
          fieldKeys,
        )
      : group.map(() => ERASED_MARKER);
    group.forEach((place, i) => (values[place] = opened[i]));
  });
  const stray = [...members.values()].flat();
  const sealedAny = tokens.some((token) => token?.kind === 'sealed');
  if (stray.length > 0 && sealedAny) {
    throw tampered(`${stray.map(({ at }) => fields[at].path).join(', ')} of mission ${missionId} (naming a group that is not there)`);
  }
  return values;
}

/** The keys a sealed token needs, in header order; undefined when one is gone (or its subject erased): the fields read ERASED_MARKER. */
function keysOf(token: SealedToken, keys: ReadonlyMap<string, SubjectDataKey>, erased: readonly string[]): SubjectDataKey[] | undefined {
  const needed = token.keys.map(({ subject, kid }) => {
    const key = erased.includes(subject) ? undefined : keys.get(subject);
    return key?.kid === kid ? key : undefined;
  });
  return needed.some((key) => key === undefined) ? undefined : needed.filter((key) => key !== undefined);
}

/** The positions of a group's fields in its places' order: the holder's (`at`), then its members' #1, #2, …; each place exactly once. */
function groupPlaces(at: number, members: readonly { member: GroupMember; at: number }[], fields: readonly StoredField[], missionId: string): number[] {
  const places = [at];
  const byIndex = [...members].sort((a, b) => a.member.index - b.member.index);
  byIndex.forEach(({ member, at: place }, i) => {
    if (member.index !== i + 1) throw tampered(`${fields[place].path} of mission ${missionId} (a group's places are not 1, 2, … each once)`);
    if (fields[place].part !== fields[at].part) throw tampered(`${fields[place].path} of mission ${missionId} (a group's fields are in two parts)`);
    places.push(place);
  });
  return places;
}
