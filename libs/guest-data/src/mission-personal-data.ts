import { Mission, MissionCreateDto, MissionEvent, MissionType, PathValue, PERSONAL_FIELDS, personalValues, valueAt, withValues } from '@app/mission';
import { CreateFingerprints, createFingerprints } from './create-fingerprints';
import { FieldKeys, isToken } from './field-envelope';
import { ERASED_MARKER, GuestDataCipher, StoredField } from './guest-data-cipher';

/** The subjects a mission records as erased (Mission.erasedSubjects), by the mission's id. */
export type ErasedSubjectsOf = (missionId: string) => Promise<readonly string[]>;

/** An agent's output (the result, a reviewer's edit): its personal fields are bound as `output.<field>`. */
const OUTPUT = 'output.';

type Output = Record<string, unknown>;

/**
 * The personal output fields of every type: a result event names no type, and they are the same
 * names in every type that has any. No other type's output can hold them in plain: its output
 * schema does not allow them (libs/llm's output-schemas spec holds the two tables to each other),
 * and a reviewer's edit keeps the fields of the output it replaces.
 */
const ANY_OUTPUT: readonly string[] = [...new Set(Object.values(PERSONAL_FIELDS).flatMap((fields) => fields.output))];

/**
 * A mission's personal fields (PERSONAL_FIELDS) sealed and opened with its subjects' keys: what
 * the services call where plaintext comes in (the intake's create, an agent's output, a
 * reviewer's edit) and where it is needed (prompt building, judging, API responses, deliveries).
 * Each call reads each subject's key at most once.
 */
export class MissionPersonalData {
  constructor(
    readonly cipher: GuestDataCipher,
    /**
     * The subjects a mission records as erased (its SubjectErased events), read when one of its
     * events is opened: the event does not carry them, and a key may outlive the erasure in another
     * process's cache, or after a crash in the erasure's loop. Without it an event opens with any key
     * there is.
     */
    private readonly erasedSubjectsOf: ErasedSubjectsOf = async () => [],
  ) {}

  /**
   * The create body with its personal fields sealed for `subjects` (see resolveSubjects);
   * unchanged without subjects. The subjects' keys are made even when no input field holds
   * anything: the agent's output is sealed later only with keys that exist, and would otherwise
   * be stored `[erased]` for a mission that was never erased.
   */
  async sealCreate<T extends Pick<MissionCreateDto, 'type' | 'description' | 'payload'>>(missionId: string, subjects: readonly string[], input: T): Promise<T> {
    if (subjects.length === 0) return input;
    const fields = personalValues(input.type, 'input', { ...input, subjects });
    const tokens = await this.cipher.seal(missionId, subjects, fields);
    return fields.length === 0 ? input : withValues(input, replaced(fields, tokens));
  }

  /**
   * The create body's idempotency fingerprints under the master keys of this deployment
   * (createFingerprints): what the intake's idempotency record holds of a create instead of a plain
   * hash, which would outlive the guest's erasure.
   */
  fingerprintsOfCreate(input: MissionCreateDto): CreateFingerprints {
    return createFingerprints(this.cipher.store.ring, input);
  }

  /**
   * The create body with its personal fields as ERASED_MARKER, no key read or made: for a repeat of
   * a mission that exists, which the append answers as the repeat without writing anything. Sealing
   * it would make a key again for a subject erased since the first create, and the subject would
   * read as not erased.
   */
  createWithoutPersonalData<T extends Pick<MissionCreateDto, 'type' | 'description' | 'payload'>>(subjects: readonly string[], input: T): T {
    const fields = subjects.length === 0 ? [] : personalValues(input.type, 'input', { ...input, subjects });
    return fields.length === 0
      ? input
      : withValues(
          input,
          replaced(
            fields,
            fields.map(() => ERASED_MARKER),
          ),
        );
  }

  /**
   * An agent's output, or a reviewer's edit of it, with its personal fields sealed for the
   * mission's subjects; ERASED_MARKER in them when a subject was erased meanwhile (no key is made).
   */
  async sealOutput(mission: Pick<Mission, 'id' | 'type' | 'subjects'>, output: Output): Promise<Output> {
    const fields = personalValues(mission.type, 'output', output);
    if (!mission.subjects?.length || fields.length === 0) return output;
    return withSealedOutput(output, fields, await this.cipher.sealWithExistingKeys(mission.id, mission.subjects, boundOutput(fields)));
  }

  /**
   * One agent attempt: the mission opened for the prompt, and a sealer for the agent's output, both
   * with the subjects' keys as Redis holds them at the start (one read, not the cache). An erasure
   * during the attempt still shreds the output: it is sealed under a key that no longer exists, and
   * reads `[erased]`; a subject without a key at the start gives ERASED_MARKER as sealOutput does.
   */
  async forAttempt(mission: Mission): Promise<PersonalAttempt> {
    const subjects = mission.subjects ?? [];
    if (subjects.length === 0) return { mission, sealOutput: (output) => output };
    const keys = await this.cipher.currentKeys(subjects);
    // The opening and the sealing are under the same keys: one field key for both.
    const fieldKeys = new FieldKeys();
    const opening = sealedParts(mission, MISSION_PARTS[mission.type]);
    return {
      mission: opening ? opening.putBack(this.cipher.openWith(keys, mission.id, opening.fields, mission.erasedSubjects, fieldKeys)) : mission,
      sealOutput: (output) => {
        const fields = personalValues(mission.type, 'output', output);
        if (fields.length === 0) return output;
        return withSealedOutput(output, fields, this.cipher.sealWith(keys, mission.id, subjects, boundOutput(fields), fieldKeys));
      },
    };
  }

  /**
   * The mission with its personal fields in plain, or `[erased]` where a subject's key is gone or
   * the mission records the subject as erased (its SubjectErased wins over a key that is there).
   */
  async openMission(mission: Mission): Promise<Mission> {
    if (!mission.subjects?.length) return mission;
    return this.openParts(mission.id, mission, MISSION_PARTS[mission.type], async () => mission.erasedSubjects ?? []);
  }

  /**
   * The event with its personal fields in plain (or `[erased]`): a create, a result, a reviewer's
   * edit. A subject its mission records as erased reads `[erased]`, as in openMission, even where
   * the subject's key is still there.
   */
  async openEvent(event: MissionEvent, erasedOf: ErasedSubjectsOf = this.erasedSubjectsOf): Promise<MissionEvent> {
    const erased = () => erasedOf(event.missionId);
    switch (event.type) {
      case 'MissionCreated': {
        if (!event.data.subjects?.length) return event;
        const data = await this.openParts(event.missionId, event.data, [inputPart(event.data.type)], erased);
        return { ...event, data };
      }
      case 'MissionCompleted':
      case 'MissionApproved':
        return this.openEventOutput(event, erased);
      default:
        return event;
    }
  }

  /** Each event opened (see openEvent), each mission's erased subjects read once for all its events. */
  async openEvents(events: readonly MissionEvent[]): Promise<MissionEvent[]> {
    const erasedOf = this.erasedSubjectsOnce();
    return Promise.all(events.map((event) => this.openEvent(event, erasedOf)));
  }

  /**
   * Each event opened, or why it could not be (as openEvents, without one failure failing all): for
   * the live stream, which sends on the events it can open and says what kept the others closed.
   */
  async openEachEvent(events: readonly MissionEvent[]): Promise<PromiseSettledResult<MissionEvent>[]> {
    const erasedOf = this.erasedSubjectsOnce();
    return Promise.allSettled(events.map((event) => this.openEvent(event, erasedOf)));
  }

  /** erasedSubjectsOf, each mission read once however many of its events are opened. */
  private erasedSubjectsOnce(): ErasedSubjectsOf {
    const read = new Map<string, Promise<readonly string[]>>();
    return (missionId) => {
      const known = read.get(missionId);
      if (known) return known;
      const reading = this.erasedSubjectsOf(missionId);
      read.set(missionId, reading);
      return reading;
    };
  }

  private async openEventOutput(
    event: MissionEvent & { type: 'MissionCompleted' | 'MissionApproved' },
    erased: () => Promise<readonly string[]>,
  ): Promise<MissionEvent> {
    const output = event.type === 'MissionCompleted' ? event.data.result.output : event.data.output;
    // Only declared personal fields: any other field is the model's text, which may start like a token.
    const fields = output ? ANY_OUTPUT.map((path) => ({ path, value: valueAt(output, path) })).filter(({ value }) => isToken(value)) : [];
    if (!output || fields.length === 0) return event;
    const values = await this.cipher.open(event.missionId, boundOutput(fields), await erased());
    const opened = withValues(output, replaced(fields, values));
    if (event.type === 'MissionCompleted') return { ...event, data: { ...event.data, result: { ...event.data.result, output: opened } } };
    return { ...event, data: { ...event.data, output: opened } };
  }

  /**
   * Opens every part's fields with one key read per subject, and puts each part's values back. The
   * subjects the mission records as erased (`erased`) are asked for only when there is anything to open.
   */
  private async openParts<T extends object>(missionId: string, target: T, parts: readonly Part<T>[], erased: () => Promise<readonly string[]>): Promise<T> {
    const opening = sealedParts(target, parts);
    if (!opening) return target;
    return opening.putBack(await this.cipher.open(missionId, opening.fields, await erased()));
  }
}

/** What forAttempt gives an executor: the mission to build the prompt from, and how to seal the agent's output. */
export interface PersonalAttempt {
  readonly mission: Mission;
  sealOutput(output: Output): Output;
}

/**
 * A mission's personal fields by type: its input, its result's output, and the output a reviewer's
 * edit replaced. Made once: every executor attempt and every evaluation looks them up.
 */
const MISSION_PARTS: Readonly<Record<MissionType, readonly Part<Mission>[]>> = {
  guest_support: partsOfMission('guest_support'),
  pricing: partsOfMission('pricing'),
  maintenance: partsOfMission('maintenance'),
};

function partsOfMission(type: MissionType): Part<Mission>[] {
  return [
    inputPart(type),
    outputPart(type, 'result.output.', (m) => m.result?.output),
    outputPart(type, 'review.originalOutput.', (m) => m.review?.originalOutput),
  ];
}

/**
 * The parts' fields as bound in their tokens, and how to put their opened values back (in the same
 * order, all in one copy of `target`); null when none holds a token, so there is nothing to open.
 */
function sealedParts<T extends object>(target: T, parts: readonly Part<T>[]): { fields: StoredField[]; putBack(values: readonly unknown[]): T } | null {
  const fields: StoredField[] = [];
  const places: string[] = [];
  parts.forEach((part, i) => {
    for (const { path, value } of part.fields(target)) {
      fields.push({ path: part.prefix + path, value, part: i });
      places.push(part.at + path);
    }
  });
  if (!fields.some((field) => isToken(field.value))) return null;
  return {
    fields,
    putBack: (values) =>
      withValues(
        target,
        places.map((path, i) => ({ path, value: values[i] })),
      ),
  };
}

/** A group of personal fields of one object: how to find them, the prefix of their bound paths, and where the object is in its target. */
interface Part<T> {
  prefix: string;
  /** The prefix of the fields' paths in the target (the object's own path and a dot; '' for the target itself). */
  at: string;
  fields(target: T): PathValue[];
}

function inputPart<T extends object>(type: MissionType): Part<T> {
  return { prefix: '', at: '', fields: (target) => personalValues(type, 'input', target) };
}

function outputPart<T extends object>(type: MissionType, at: string, get: (target: T) => Output | undefined): Part<T> {
  return {
    prefix: OUTPUT,
    at,
    fields: (target) => {
      const output = get(target);
      return output ? personalValues(type, 'output', output) : [];
    },
  };
}

/** An output's personal fields as bound in their tokens (`output.<field>`). */
function boundOutput(fields: readonly PathValue[]): PathValue[] {
  return fields.map(({ path, value }) => ({ path: OUTPUT + path, value }));
}

/** The output with its personal fields replaced by their tokens, or ERASED_MARKER when a subject had no key to seal with. */
function withSealedOutput(output: Output, fields: readonly PathValue[], tokens: readonly string[] | null): Output {
  return withValues(output, replaced(fields, tokens ?? fields.map(() => ERASED_MARKER)));
}

function replaced(fields: readonly PathValue[], values: readonly unknown[]): PathValue[] {
  return fields.map(({ path }, i) => ({ path, value: values[i] }));
}
