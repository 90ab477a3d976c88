import { UnreadableStoredDataError } from './unreadable-stored-data-error';

/** Missions a sweep names at most, so a read model changed in bulk does not flood the log or memory. */
export const MAX_NAMED_PASSED_OVER = 1_000;

/**
 * What a periodic sweep (due missions, deadlines, reviews, retention, dispatch) does with a mission
 * whose stored data cannot be read (UnreadableStoredDataError: changed by hand): passes over it and
 * goes on with the others, naming it once rather than on every sweep. Thrown, it failed the whole
 * sweep, every half second, and held back every mission after it in its partition. The mission is
 * named again should it be read (`readable`, or a `step` that succeeds) and then break once more.
 * Past MAX_NAMED_PASSED_OVER missions named and not read since, one line says further ones are not
 * named: `replay verify` names them all.
 */
export class PassedOverMissions {
  private readonly named = new Set<string>();
  /** The line saying that further missions are not named was logged, since the set last had room. */
  private toldFull = false;

  constructor(
    /** What passes over them, for the log line, e.g. `the scheduled missions sweep`. */
    private readonly sweep: string,
    private readonly warn: (message: string) => void,
    /** What passing over it holds up, beyond the mission itself, said after the remedy, e.g. `the erasure of subject guest:4711 stays pending until …`. */
    private readonly holdsUp?: string,
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

  /** Names the mission of `error` in the log, once until it is read fine. */
  note(error: UnreadableStoredDataError): void {
    if (this.named.has(error.missionId)) return;
    if (this.named.size >= MAX_NAMED_PASSED_OVER) {
      if (this.toldFull) return;
      this.toldFull = true;
      this.warn(
        `${this.sweep} passes over more than ${MAX_NAMED_PASSED_OVER} missions whose stored data cannot be read; further ones are not named (run replay verify, which names them all, then replay rebuild)`,
      );
      return;
    }
    this.named.add(error.missionId);
    const consequence = this.holdsUp === undefined ? '' : `; ${this.holdsUp}`;
    this.warn(`${this.sweep} passes over ${error.message}, on every run until it is mended (run replay verify, then replay rebuild)${consequence}`);
  }
}
