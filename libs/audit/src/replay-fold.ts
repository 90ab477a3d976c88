import { skillSetOf, storedDepthProblem, upcast } from '@app/event-store';
import { evolveInPlace, Mission, MissionEvent } from '@app/mission';
import { DeadLetterPlace, deadLetterPlaceAfter } from '@app/pipeline';
import { sha1Hex, StoredEntry, StoredObject } from './stored-log';

/** One mission as folded from the log. */
export interface MissionFold {
  missionId: string;
  /** Null until the first event, and when the history cannot be folded. */
  state: Mission | null;
  /**
   * The mission's last stored event as stored, its SHA-1 (`lastHashOf`) what the mission's `h` should
   * be; kept only by a fold made with `keepLastEvent`.
   */
  lastJson?: string;
  /** Log id of the mission's last stored event. */
  lastLogId: string;
  /** Version of the mission's last stored event (0 when it has none readable). */
  lastVersion: number;
  /** How many log entries the mission has: what its event list must hold. */
  events: number;
  /** Set when an event could not be folded; later events of the mission are then ignored. */
  failure?: { logId: string; version?: number; error: string };
  /** The log ids of the mission's events in log order; kept only by a fold made with `keepLogIds`. */
  logIds?: string[];
  /** Its place among the dead letters (`queue:dlq` score, `dr`) as its events leave it; absent when they leave it out. */
  deadLetter?: DeadLetterPlace;
}

export interface ReplayFoldOptions {
  /**
   * Keep each mission's last event as stored (`MissionFold.lastJson`), for `lastHashOf`. Off by
   * default: held for every mission, these strings outlive V8's young generation, which copies
   * and promotes them (~70 MB on the bench's 500,000-event log); verify and rebuild do without.
   */
  keepLastEvent?: boolean;
  /** Keep the log ids of each mission's events (`MissionFold.logIds`): verify and rebuild hold them to the missions' event lists. */
  keepLogIds?: boolean;
  /**
   * Told of each event that folds, with the mission's state before it (a copy: the fold changes
   * its states in place) and after it: what an append's effects are computed from.
   */
  onFolded?: (event: MissionEvent, previous: Mission | null, next: Mission) => void;
}

/**
 * Folds every mission's events, in log order, into its state in memory: what the read model (`s`)
 * should hold. Events are upcast first, exactly as the event store reads them.
 */
export class ReplayFold {
  private readonly folds = new Map<string, MissionFold>();
  private readonly keepLastEvent: boolean;
  private readonly keepLogIds: boolean;
  private readonly onFolded: ReplayFoldOptions['onFolded'];

  constructor(options: ReplayFoldOptions = {}) {
    this.keepLastEvent = options.keepLastEvent ?? false;
    this.keepLogIds = options.keepLogIds ?? false;
    this.onFolded = options.onFolded;
  }

  get missions(): number {
    return this.folds.size;
  }

  /** Missions in the order of their first event. */
  values(): IterableIterator<MissionFold> {
    return this.folds.values();
  }

  get(missionId: string): MissionFold | undefined {
    return this.folds.get(missionId);
  }

  /** Folds the next log entry (in log order) with its parsed JSON (null if it does not parse). */
  add(entry: StoredEntry, stored: StoredObject | null): void {
    let fold = this.folds.get(entry.missionId);
    if (!fold) {
      fold = { missionId: entry.missionId, state: null, lastLogId: '', lastVersion: 0, events: 0 };
      this.folds.set(entry.missionId, fold);
    }
    if (this.keepLastEvent) fold.lastJson = entry.json;
    if (this.keepLogIds) (fold.logIds ??= []).push(entry.logId);
    fold.lastLogId = entry.logId;
    fold.events += 1;
    const version = stored && Number.isInteger(stored.version) ? (stored.version as number) : undefined;
    if (version !== undefined) fold.lastVersion = version;
    if (fold.failure) return;
    if (!stored) {
      fold.failure = { logId: entry.logId, error: 'the stored event is not valid JSON' };
      fold.state = null;
      return;
    }
    // Parsed (JSON.parse does not recurse), but neither folded nor stringified: both would.
    const tooDeep = storedDepthProblem(entry.json);
    if (tooDeep) {
      fold.failure = { logId: entry.logId, version, error: tooDeep };
      fold.state = null;
      return;
    }
    try {
      // The fold owns every state it holds, so it may change them in place; a listener gets the
      // state before as a shallow copy: the effect rules read its own fields (status, agent,
      // attempts), which an event sets anew, not the list of former agents it appends to.
      const previous = this.onFolded && fold.state ? { ...fold.state } : fold.state;
      const event = upcast(stored);
      fold.state = evolveInPlace(fold.state, event);
      const deadLetter = deadLetterPlaceAfter(event, fold.state);
      if (deadLetter) fold.deadLetter = deadLetter;
      else if (deadLetter === null) delete fold.deadLetter;
      this.onFolded?.(event, previous, fold.state);
    } catch (error) {
      fold.failure = { logId: entry.logId, version, error: error instanceof Error ? error.message : String(error) };
      fold.state = null;
    }
  }

  /** How many folded missions are in each status (missions that cannot be folded are left out). */
  statusCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const fold of this.folds.values()) {
      if (fold.state) counts.set(fold.state.status, (counts.get(fold.state.status) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * The skill sets the folded missions are queued under (`queue:ready-sk:<skills>`): every skill-set
   * queue a lease can read names one, unless a mission with another is queued since.
   */
  skillSets(): Set<string> {
    const skillSets = new Set<string>();
    for (const fold of this.folds.values()) if (fold.state?.requiredSkills) skillSets.add(skillSetOf(fold.state));
    return skillSets;
  }
}

/**
 * SHA-1 of the mission's last stored event: what its `h` should be. Hashed only when asked, as most
 * missions never need it; the fold must have been made with `keepLastEvent`.
 */
export function lastHashOf(fold: MissionFold): string {
  if (fold.lastJson === undefined) throw new Error(`the fold of ${fold.missionId} kept no last event (ReplayFold without keepLastEvent)`);
  return sha1Hex(fold.lastJson);
}
