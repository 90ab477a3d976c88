import { UnreadableStoredDataError } from './unreadable-stored-data-error';

/** Missions a sweep names at most, so a read model changed in bulk does not flood the log or memory. */
export const MAX_NAMED_PASSED_OVER = 1_000;

/**
 * Once MAX_NAMED_PASSED_OVER missions are named, how long a name holds its place after its mission
 * was last passed over before it makes room for a new one. A name is let go when its mission is
 * read fine; one deleted, or mended where this process does not read it, never was, and in a
 * long-running process such names used up the room for good: no mission that broke later was
 * named. A name's day runs from when its mission was last passed over: run from when it was named,
 * the names of missions passed over on every run made room in turn, and those missions, passed
 * over again, were named again: MAX_NAMED_PASSED_OVER lines a day for missions named already.
 */
export const NAME_HELD_WHEN_FULL_MS = 24 * 60 * 60 * 1000;

/**
 * What a periodic sweep (due missions, deadlines, reviews, retention, dispatch) does with a mission
 * whose stored data cannot be read (UnreadableStoredDataError: changed by hand): passes over it and
 * goes on with the others, naming it once rather than on every sweep. Thrown, it failed the whole
 * sweep, every half second, and held back every mission after it in its partition. The mission is
 * named again should it be read (`readable`, or a `step` that succeeds) and then break once more.
 * Past MAX_NAMED_PASSED_OVER missions named and not read since, one line says further ones are not
 * named (`replay verify` names them all), until a named mission has not been passed over for
 * NAME_HELD_WHEN_FULL_MS and its name makes room.
 */
export class PassedOverMissions {
  /** The missions named and not read fine since, each with when it was last passed over (ms), longest ago first. */
  private readonly named = new Map<string, number>();
  /** The line saying that further missions are not named was logged, since a mission read fine last made room. */
  private toldFull = false;

  constructor(
    /** What passes over them, for the log line, e.g. `the scheduled missions sweep`. */
    private readonly sweep: string,
    private readonly warn: (message: string) => void,
    private readonly options: {
      /** What passing over it holds up, beyond the mission itself, said after the remedy, e.g. `the erasure of subject guest:4711 stays pending until …`. */
      holdsUp?: string;
      /** The clock names are held by (ms). */
      now?: () => number;
    } = {},
  ) {}

  /** `work` on the mission, or undefined when its stored data cannot be read (named the first time). */
  async step<T>(missionId: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      const done = await work();
      this.readable(missionId);
      return done;
    } catch (error) {
      if (!(error instanceof UnreadableStoredDataError)) throw error;
      this.note(error);
      return undefined;
    }
  }

  /** The mission was read fine (mended): should it break again, it is named again. */
  readable(missionId: string): void {
    if (!this.named.delete(missionId)) return;
    if (this.named.size < MAX_NAMED_PASSED_OVER) this.toldFull = false;
  }

  /** Names the mission of `error` in the log, once until it is read fine (or, past MAX_NAMED_PASSED_OVER, its name makes room). */
  note(error: UnreadableStoredDataError): void {
    const now = (this.options.now ?? Date.now)();
    // Passed over again: its name holds its place from now, behind the others (a Map keeps the order of its sets).
    if (this.named.delete(error.missionId)) {
      this.named.set(error.missionId, now);
      return;
    }
    if (this.named.size >= MAX_NAMED_PASSED_OVER) this.makeRoom(now);
    if (this.named.size >= MAX_NAMED_PASSED_OVER) {
      if (this.toldFull) return;
      this.toldFull = true;
      this.warn(
        `${this.sweep} passes over more than ${MAX_NAMED_PASSED_OVER} missions whose stored data cannot be read; further ones are not named (run replay verify, which names them all, then replay rebuild)`,
      );
      return;
    }
    this.named.set(error.missionId, now);
    const consequence = this.options.holdsUp === undefined ? '' : `; ${this.options.holdsUp}`;
    this.warn(`${this.sweep} passes over ${error.message}, on every run until it is mended (run replay verify, then replay rebuild)${consequence}`);
  }

  /** Lets go the name passed over longest ago once that was NAME_HELD_WHEN_FULL_MS ago: named again should it be passed over again. */
  private makeRoom(now: number): void {
    const oldest = this.named.entries().next();
    if (!oldest.done && now - oldest.value[1] >= NAME_HELD_WHEN_FULL_MS) this.named.delete(oldest.value[0]);
  }
}
