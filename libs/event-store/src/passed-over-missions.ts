import { UnreadableStoredDataError } from './unreadable-stored-data-error';

/** Missions a sweep names at most, so a read model changed in bulk does not flood the log or memory. */
const MAX_NAMED = 1_000;

/**
 * What a periodic sweep (due missions, deadlines, reviews, retention, dispatch) does with a mission
 * whose stored data cannot be read (UnreadableStoredDataError: changed by hand): passes over it and
 * goes on with the others, naming it once rather than on every sweep. Thrown, it failed the whole
 * sweep, every half second, and held back every mission after it in its partition. The mission is
 * named again should it be read and then break once more.
 */
export class PassedOverMissions {
  private readonly named = new Set<string>();

  constructor(
    /** What passes over them, for the log line, e.g. `the scheduled missions sweep`. */
    private readonly sweep: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** `work` on the mission, or undefined when its stored data cannot be read (named the first time). */
  async step<T>(missionId: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      const done = await work();
      this.named.delete(missionId);
      return done;
    } catch (error) {
      if (!(error instanceof UnreadableStoredDataError)) throw error;
      this.note(error);
      return undefined;
    }
  }

  /** Names the mission of `error` in the log, once. */
  note(error: UnreadableStoredDataError): void {
    if (this.named.has(error.missionId) || this.named.size >= MAX_NAMED) return;
    this.named.add(error.missionId);
    this.warn(`${this.sweep} passes over ${error.message}, on every run until it is mended (run replay verify, then replay rebuild)`);
  }
}
