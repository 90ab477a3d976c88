import { MISSION_HASH_FIELDS, PartitionKeys } from '@app/event-store';
import { execAll, execAllKeepingWrongType, RedisConnection, WRONG_TYPE_REPLY } from '@app/redis';
import { Finding, FindingKind } from './finding';
import { LogFollower, readAtHead } from './log-snapshot';
import { noProgress, ProgressListener } from './progress';
import type { NotChecked } from './read-model-drift';
import { DEFAULT_LOG_BATCH, LogCursor, parseStored, sha1Hex, StoredEntry, StoredObject } from './stored-log';

/**
 * Hash-chain verification of the event log.
 *
 * Every stored event carries `logPrevHash` (SHA-1 of the stored event before it in the log) and
 * `prevHash` (SHA-1 of the mission's stored event before it). One walk over the log checks each
 * link and each mission's versions; the head of the log and each mission's `h` must name the last
 * event. Breaks are only collected during the walk: when there are any, a second walk finds where
 * the hashes they point to live, and whether anything links to the events around them, and the
 * breaks are explained as events edited, deleted, inserted, copied or moved, each naming its culprit.
 */

/** An event as the walk saw it: position in the log, id, mission, version and hash of its stored JSON. */
interface EventRef {
  index: number;
  logId: string;
  missionId: string;
  version: number;
  hash: string;
}

/** `at`'s logPrevHash is `link` but the event before it is `prev`. `at` null: the log head is `link`. */
interface LogBreak {
  index: number;
  at: EventRef | null;
  prev: EventRef | null;
  link: string;
}

/** `at`'s prevHash is `link` but the mission's event before it is `prev`. `at` null: the mission's `h` is `link`. */
interface MissionBreak {
  missionId: string;
  at: EventRef | null;
  prev: EventRef | null;
  link: string;
  /** The mission hash's `v`, for a break at its tail. */
  liveVersion?: number;
}

/** Versions that do not count up by one, with the hash link intact. */
interface VersionJump {
  at: EventRef;
  prev: EventRef | null;
}

interface Located {
  /** Where each hash some link points to is in the log. */
  located: Map<string, EventRef>;
  /** Hashes (of events next to a break) that the prevHash or logPrevHash of some stored event points to. */
  referenced: Set<string>;
  /** Every place in the log of each event whose log link breaks, by its hash: more than one is a byte copy. */
  copies: Map<string, EventRef[]>;
}

interface PendingDeletion {
  order: number;
  missionId: string;
  version: number;
  detail: string;
  /**
   * Set for a version past the mission's last logged event, which only the read model claims: it
   * is named deleted only when its event list gives it a log id after this one that the log no
   * longer has (a list entry still in the log, or no log id at all, is the list's drift).
   */
  listedAfter?: string;
}

/** A mission whose read model (`v`, its event list) claims versions past its last logged event, up to `through`. */
interface ClaimedTail {
  last: EventRef;
  through: number;
}

/**
 * The first event of a walk whose shape, links or version do not hold, said at once, before the
 * breaks are explained (which takes a second walk): enough to refuse a file that is not the log
 * as written.
 */
export interface ChainBreak {
  missionId: string;
  logId: string;
  version: number;
  detail: string;
}

export interface ChainFindingOptions {
  batchSize?: number;
  onProgress?: ProgressListener;
}

/** A log so broken that explaining every break would take too long stops collecting after this many. */
const MAX_BROKEN_LINKS = 10_000;

export interface ChainCheckerOptions {
  /**
   * Whether a mission's events belong in the partition walked (the layout's partitionOf); without
   * it, any mission's do.
   */
  belongsHere?: (missionId: string) => boolean;
  /** Breaks held to be explained; past them the log is named too broken to explain. Default MAX_BROKEN_LINKS. */
  maxBrokenLinks?: number;
}

/** Mission hashes read per MULTI at the end of the walk. */
const MISSION_BATCH = 5_000;
/** Versions named one by one for a single gap; a larger gap gets one finding for the rest. */
const MAX_NAMED_PER_GAP = 100;
/** A stream entry id as Redis writes it, <ms>-<seq>. */
const LOG_ID = /^(\d+)-(\d+)$/;
/** Both parts of a stream entry id are unsigned 64-bit numbers. */
const MAX_ID_PART = 2n ** 64n - 1n;
const LINKS_AT_END = /"prevHash":"([0-9a-f]*)","logPrevHash":"([0-9a-f]*)"}$/;

export const LOCATE_PHASE = 'locate breaks';
export const CHECK_HEADS_PHASE = 'check heads';
/** checkHeads' notChecked details: a head read ahead of the walk on a log that kept moving. */
export const HEADS_CHANGING = 'changing while verify ran: its head could not be read in step with the log';
export const HEADS_CREATED = 'in the mission index, created while verify ran: its events were not walked';

const short = (hash: string): string => (hash ? `${hash.slice(0, 12)}…` : "''");
const describe = (ref: EventRef): string => `${ref.logId} (mission ${ref.missionId} v${ref.version})`;

export class ChainChecker {
  private readonly belongsHere: (missionId: string) => boolean;
  private readonly maxBrokenLinks: number;

  constructor(options: ChainCheckerOptions = {}) {
    this.belongsHere = options.belongsHere ?? (() => true);
    this.maxBrokenLinks = options.maxBrokenLinks ?? MAX_BROKEN_LINKS;
  }

  private count = 0;
  private lastRef: EventRef | null = null;
  private readonly lastOfMission = new Map<string, EventRef>();
  /** Missions in the order the walk first met them (new ones only ever go to the end). */
  private readonly missionOrder: string[] = [];
  private readonly logBreaks = new Map<number, LogBreak>();
  private readonly missionBreaks: MissionBreak[] = [];
  private readonly versionJumps: VersionJump[] = [];
  private readonly direct: { order: number; finding: Finding }[] = [];
  private readonly absentMissions: { missionId: string; liveVersion: number }[] = [];
  private readonly claimedTails: ClaimedTail[] = [];
  private headBreak: LogBreak | null = null;
  private readonly unchecked: NotChecked[] = [];
  private headUnchecked = false;
  private headOfAnotherType = false;
  private unanchored: string | null = null;
  private anomalies = 0;
  private truncated = false;
  /** Missions without an h kept in missionBreaks, and those past maxBrokenLinks only counted (noteWithoutH). */
  private withoutHKept = 0;
  private withoutHUnnamed = 0;
  private first: ChainBreak | undefined;
  /** Log heads recorded earlier that no event walked has had yet (watchFor). */
  private readonly unseenAnchors = new Set<string>();

  /** Hash of the last event seen. */
  get headHash(): string {
    return this.lastRef?.hash ?? '';
  }

  get events(): number {
    return this.count;
  }

  get missions(): number {
    return this.lastOfMission.size;
  }

  /**
   * What checkHeads could not read in step with the walk on a log that kept moving through every
   * catch-up (readAtHead's `moving`): not a finding, as for compareReadModel.
   */
  get notChecked(): readonly NotChecked[] {
    return this.unchecked;
  }

  /**
   * Set by findings(): the mission whose last event is the last event walked when neither the log
   * head (missing, naming another hash, or not read in step with a moving log) nor the mission's
   * `h` names it. No stored event links to the log's last event, so those two are all that vouch
   * for it: with both gone or wrong, an edit of it cannot be told from a change of them, and
   * rebuild must not write the mission from it. Null when each last event has an anchor.
   */
  get unanchoredMission(): string | null {
    return this.unanchored;
  }

  /**
   * Hashes of events this log must still hold: log heads recorded by an earlier verify, kept
   * elsewhere. The chains alone hold only against whoever does not recompute every later hash; an
   * event recorded before a rewrite has another hash after it (its own links change), so a log
   * rewritten up to an anchor no longer has it.
   */
  watchFor(hashes: Iterable<string>): void {
    for (const hash of hashes) this.unseenAnchors.add(hash);
  }

  /** The hashes given to watchFor that no event fed had. */
  get missingAnchors(): string[] {
    return [...this.unseenAnchors];
  }

  /** The first event fed whose shape, links or version do not hold; undefined while all do. */
  get firstBreak(): ChainBreak | undefined {
    return this.first;
  }

  /** Feeds the next log entry, in log order. */
  add(entry: StoredEntry, hash: string, stored: StoredObject | null): void {
    const index = this.count++;
    if (this.unseenAnchors.size > 0) this.unseenAnchors.delete(hash);
    const missionId = entry.missionId || (typeof stored?.missionId === 'string' ? stored.missionId : '');
    const previous = this.lastOfMission.get(missionId) ?? null;
    const expectedVersion = (previous?.version ?? 0) + 1;
    const version = stored && Number.isInteger(stored.version) ? (stored.version as number) : expectedVersion;
    const ref: EventRef = { index, logId: entry.logId, missionId, version, hash };

    const problem = malformation(entry, stored);
    if (problem || !stored) {
      const detail = problem ?? 'not valid JSON';
      this.noteFirst(ref, detail);
      this.direct.push({ order: index, finding: { kind: 'edited', missionId, logId: entry.logId, version, detail } });
    } else if (!this.belongsHere(missionId)) {
      const detail = 'the event is in a log partition its mission does not belong to: the services and history read it nowhere';
      this.noteFirst(ref, detail);
      this.direct.push({ order: index, finding: { kind: 'misplaced', missionId, logId: entry.logId, version, detail } });
    } else {
      const logPrev = stored.logPrevHash as string;
      const missionPrev = stored.prevHash as string;
      const before = (prev: EventRef | null): string => (prev ? `${describe(prev)}, ${short(prev.hash)}` : 'none: it is the first');
      if (logPrev !== this.headHash) {
        this.noteFirst(ref, `its logPrevHash ${short(logPrev)} does not name the event before it in its log (${before(this.lastRef)})`);
        this.note(() => this.logBreaks.set(index, { index, at: ref, prev: this.lastRef, link: logPrev }));
      }
      if (missionPrev !== (previous?.hash ?? '')) {
        this.noteFirst(ref, `its prevHash ${short(missionPrev)} does not name its mission's event before it (${before(previous)})`);
        this.note(() => this.missionBreaks.push({ missionId, at: ref, prev: previous, link: missionPrev }));
      } else if (version !== expectedVersion) {
        this.noteFirst(ref, `version ${version} follows version ${previous?.version ?? 0} of its mission`);
        this.note(() => this.versionJumps.push({ at: ref, prev: previous }));
      }
    }
    if (!previous) this.missionOrder.push(missionId);
    this.lastOfMission.set(missionId, ref);
    this.lastRef = ref;
  }

  /**
   * After the walk: the log head must be the last event's hash, each mission's `h` its last event's
   * hash (and `v` its version), and every mission in the index must have events in the log. Reads
   * are made at the walk's head (catching up with appends), so a live log gives no false alarms.
   * On a log that keeps moving through every catch-up (readAtHead's `moving`) a read is newer than
   * the walk: a mission whose live `v` is past its walked version, a mission in the index the walk
   * has not met, and the log head are read again in later rounds, and what still moved is listed in
   * `notChecked` (HEADS_CHANGING, HEADS_CREATED) instead of reported as a head-mismatch or deletion.
   */
  async checkHeads(redis: RedisConnection, keys: PartitionKeys, follower: LogFollower, onProgress: ProgressListener = noProgress): Promise<void> {
    /** Missions whose hash was read ahead of the walk: checked again in the last rounds. */
    const ahead = new Set<string>();
    const checkTails = async (ids: readonly string[]): Promise<void> => {
      const { replies, moving } = await readAtHead(redis, keys.logHead, follower, (multi) => {
        for (const id of ids) {
          multi.hmget(keys.mission(id), MISSION_HASH_FIELDS.version, MISSION_HASH_FIELDS.lastEventHash);
          // The event list keeps the log ids of events cut from the log's end (XDEL leaves it alone).
          multi.llen(keys.missionEvents(id));
        }
      });
      ids.forEach((id, i) => {
        // A hash of another type has no h or v to check: compareReadModel names its key (wrong-type).
        if (replies[2 * i] === WRONG_TYPE_REPLY) return void ahead.delete(id);
        const reply = replies[2 * i] as [string | null, string | null];
        const listed = replies[2 * i + 1];
        // An append writes a mission's events, v and h at once: at the walked version h is in step even when the log moved on.
        if (moving && Number(reply[0] ?? 0) > (this.lastOfMission.get(id)?.version ?? 0)) ahead.add(id);
        else {
          ahead.delete(id);
          this.checkMissionTail(id, reply, typeof listed === 'number' ? listed : 0);
        }
      });
    };
    // Missions the walk meets while catching up are checked too: loop until none is left.
    let checked = 0;
    const checkMissions = async (): Promise<void> => {
      while (checked < this.missionOrder.length) {
        const ids = this.missionOrder.slice(checked, checked + MISSION_BATCH);
        await checkTails(ids);
        checked += ids.length;
        onProgress({ phase: CHECK_HEADS_PHASE, done: checked, total: this.missionOrder.length });
      }
    };
    await checkMissions();

    const absent: string[] = [];
    /** In an index read ahead of the walk, not (yet) met by it: perhaps created since. */
    const unmet = new Set<string>();
    for (let start = 0; ; start += MISSION_BATCH) {
      const { replies, moving } = await readAtHead(redis, keys.logHead, follower, (multi) => {
        multi.zrange(keys.missionIndex, start, start + MISSION_BATCH - 1);
      });
      // An index of another type lists nothing: compareReadModel names its key (wrong-type).
      const ids = replies[0] === WRONG_TYPE_REPLY ? [] : (replies[0] as string[]);
      for (const id of ids) {
        if (this.lastOfMission.has(id)) continue;
        if (moving) unmet.add(id);
        else absent.push(id);
      }
      if (ids.length < MISSION_BATCH) break;
    }
    if (absent.length > 0) {
      const pipeline = redis.pipeline();
      for (const id of absent) pipeline.hget(keys.mission(id), MISSION_HASH_FIELDS.version);
      const versions = (await execAllKeepingWrongType(pipeline)).map((version) => (version === WRONG_TYPE_REPLY ? null : version));
      absent.forEach((missionId, i) => this.absentMissions.push({ missionId, liveVersion: Number(versions[i] ?? 0) }));
    }

    let head: string | null = '';
    let moving = false;
    for (let round = 0; round < 5; round++) {
      await checkMissions();
      const again = [...ahead];
      for (let start = 0; start < again.length; start += MISSION_BATCH) await checkTails(again.slice(start, start + MISSION_BATCH));
      ({ head, moving } = await readAtHead(redis, keys.logHead, follower, () => undefined));
      if (checked === this.missionOrder.length && ahead.size === 0) break;
    }
    for (const missionId of ahead) this.unchecked.push({ missionId, detail: HEADS_CHANGING });
    // A mission of an index read ahead of the walk that the catch-ups since met is checked with the others.
    for (const missionId of unmet) if (!this.lastOfMission.has(missionId)) this.unchecked.push({ missionId, detail: HEADS_CREATED });
    this.headOfAnotherType = head === null;
    // A log head of another type vouches for no event, as one read ahead of the walk: verify names its key (wrong-type).
    this.headUnchecked = moving || head === null;
    if (moving) this.unchecked.push({ missionId: '', detail: `log head: ${HEADS_CHANGING}` });
    this.headBreak = head === this.headHash || head === null || moving ? null : { index: this.count, at: null, prev: this.lastRef, link: head };
  }

  /**
   * Set by checkHeads: the log head's key holds another Redis type than the string the appends
   * write (changed by hand). It was not compared with the walk; every append to the partition
   * fails on it.
   */
  get logHeadOfAnotherType(): boolean {
    return this.headOfAnotherType;
  }

  private checkMissionTail(missionId: string, [v, h]: [string | null, string | null], listed: number): void {
    const last = this.lastOfMission.get(missionId);
    if (!last) return;
    const liveVersion = v === null ? 0 : Number(v);
    // Events cut from the log's end with h (and v) set back to the last one kept: the versions the
    // read model still claims past it are checked against the log ids the event list gives them.
    const claimed = Math.max(Number.isSafeInteger(liveVersion) ? liveVersion : 0, listed);
    if (claimed > last.version) this.claimedTails.push({ last, through: claimed });
    if (!h) {
      this.noteWithoutH({ missionId, at: null, prev: last, link: '', liveVersion });
    } else if (h !== last.hash) {
      this.note(() => this.missionBreaks.push({ missionId, at: null, prev: last, link: h, liveVersion }));
    } else if (liveVersion !== last.version) {
      this.direct.push({
        order: last.index,
        finding: {
          kind: 'read-model-drift',
          missionId,
          logId: last.logId,
          version: last.version,
          detail: `mission v is ${v ?? '(missing)'} but its last event is version ${last.version}`,
        },
      });
    }
  }

  /**
   * Explains every break found: one finding per culprit event, in log order. Walks the log a second
   * time (up to `end`, the walk's last entry) only when there is something to explain.
   */
  async findings(redis: RedisConnection, keys: PartitionKeys, end: string | null, options: ChainFindingOptions = {}): Promise<Finding[]> {
    if (this.headBreak && this.headBreak.index !== this.count) this.headBreak = null;
    const breaks = [...this.logBreaks.values(), ...(this.headBreak ? [this.headBreak] : [])].sort((a, b) => a.index - b.index);
    const hasBreaks = breaks.length > 0 || this.missionBreaks.length > 0;
    const { located, referenced, copies } =
      hasBreaks && end !== null
        ? await this.locate(redis, keys, end, options)
        : { located: new Map<string, EventRef>(), referenced: new Set<string>(), copies: new Map<string, EventRef[]>() };

    const out = this.direct.map((d) => ({ ...d }));
    const named = new Set<number>(this.direct.filter((d) => d.finding.kind === 'edited').map((d) => d.order));
    const accounted = new Set<string>();
    const pending: PendingDeletion[] = [];
    /** Log links to an unknown hash with no mission link to explain them: `after` was edited, unless a deleted event sat between. */
    const suspects: { after: EventRef; before: EventRef; link: string }[] = [];
    /** Last events of missions without an h: named after the log's links had their say (an edit of one is not the missing h). */
    const withoutH: MissionBreak[] = [];
    const name = (ref: EventRef, kind: FindingKind, detail: string): void => {
      if (named.has(ref.index)) return;
      named.add(ref.index);
      out.push({ order: ref.index, finding: { kind, missionId: ref.missionId, logId: ref.logId, version: ref.version, detail } });
    };
    const offChain = (ref: EventRef): FindingKind => (referenced.has(ref.hash) ? 'reordered' : 'inserted');
    const isNamed = (ref: EventRef | null): boolean => ref !== null && named.has(ref.index);
    const linkText = (link: string): string => {
      const target = located.get(link);
      if (target) return describe(target);
      return link === '' ? 'nothing (a first event)' : `a hash no stored event has (${short(link)})`;
    };
    const breakAt = (index: number): LogBreak | undefined => (this.headBreak?.index === index ? this.headBreak : this.logBreaks.get(index));
    /** What names the link of a break: the next event's logPrevHash, or the log head after the last event. */
    const linker = (br: LogBreak): string => (br.at ? 'the event after it' : 'the log head');

    // 0. Byte copies of an event stored earlier (the same JSON, so the same hash) where their links do
    //    not fit: named as such, before the events whose links they break are blamed. Of two copies
    //    whose links both break, the later is named.
    for (const br of breaks) {
      if (!br.at) continue;
      const at = br.at;
      const twin = copies.get(at.hash)?.find((ref) => ref.index !== at.index);
      if (!twin || (twin.index > at.index && this.logBreaks.has(twin.index))) continue;
      name(at, 'duplicate', `a byte copy of ${describe(twin)}: the same stored event a second time, where its links do not fit`);
    }

    // 1. Events with both log links broken, where the chain runs around them: moved, or never part of it.
    for (const br of breaks) {
      if (!br.at) continue;
      const next = breakAt(br.index + 1);
      const target = next ? located.get(next.link) : undefined;
      if (!next || !target || target.index === br.index) continue;
      const kind = offChain(br.at);
      name(
        br.at,
        kind,
        kind === 'inserted'
          ? `nothing links to it: not part of the chain as written (${linker(next)} names ${describe(target)} as its predecessor)`
          : `out of place: it names ${linkText(br.link)} as the event before it, and ${linker(next)} names ${describe(target)}`,
      );
    }

    // 2. The other log breaks: a link to an event elsewhere is an insertion or a move; a link to a hash
    //    no event has is an edit or a deletion, decided together with the mission breaks below.
    const groups = new Map<string, { logBreaks: LogBreak[]; missionBreaks: MissionBreak[] }>();
    const group = (link: string) => {
      let found = groups.get(link);
      if (!found) groups.set(link, (found = { logBreaks: [], missionBreaks: [] }));
      return found;
    };
    for (const br of breaks) {
      if ((br.at && isNamed(br.at)) || isNamed(br.prev)) {
        accounted.add(br.link);
        continue;
      }
      const target = located.get(br.link);
      if (br.link === '' && br.prev) {
        if (!br.at) name(br.prev, 'head-mismatch', 'the log head is missing');
        else if (!referenced.has(br.prev.hash))
          name(br.prev, 'inserted', `nothing links to it: it sits before ${describe(br.at)}, the first event of the chain`);
        else name(br.at, offChain(br.at), `names no predecessor, as if it were the first event of the log, but follows ${describe(br.prev)}`);
      } else if (target && br.prev && target.index < br.index - 1) {
        if (!referenced.has(br.prev.hash)) name(br.prev, 'inserted', `nothing links to it: ${linker(br)} names ${describe(target)} as its predecessor`);
        else if (br.at) name(br.at, 'reordered', `names ${describe(target)} as the event before it, but follows ${describe(br.prev)}`);
        else name(br.prev, 'head-mismatch', `the log head names ${describe(target)}, not the last event`);
      } else if (target && br.at) {
        name(br.at, offChain(br.at), `comes before ${describe(target)}, which it names as the event before it`);
      } else if (!target) {
        group(br.link).logBreaks.push(br);
      }
    }

    // 3. Mission links.
    for (const mb of this.missionBreaks) {
      if (isNamed(mb.at) || isNamed(mb.prev) || accounted.has(mb.link)) {
        accounted.add(mb.link);
        continue;
      }
      const target = located.get(mb.link);
      if (mb.link === '' && mb.prev) {
        if (mb.at) name(mb.at, offChain(mb.at), `claims to be the first event of mission ${mb.missionId}, which already has ${describe(mb.prev)}`);
        else withoutH.push(mb);
      } else if (target && mb.prev && !referenced.has(mb.prev.hash)) {
        name(mb.prev, 'inserted', `nothing links to it: the mission's next link skips it to ${describe(target)}`);
      } else if (target && mb.at) {
        name(
          mb.at,
          offChain(mb.at),
          `names ${describe(target)} as its mission's previous event, but follows ${mb.prev ? describe(mb.prev) : 'no event of its mission'}`,
        );
      } else if (target && mb.prev) {
        name(mb.prev, 'head-mismatch', `mission h names ${describe(target)}, not its last event`);
      } else if (!target) {
        group(mb.link).missionBreaks.push(mb);
      }
    }

    // 4. Links to hashes that no stored event has: the event they name was changed or removed.
    for (const [link, g] of groups) {
      if (accounted.has(link)) continue;
      const gap = g.missionBreaks.find((mb) => missingVersions(mb).count > 0);
      if (gap) {
        const missing = missingVersions(gap);
        const after = gap.at ? `${describe(gap.at)} links to it` : `the mission's h (${short(link)}) names it and v is ${gap.liveVersion}`;
        const order = gap.at?.index ?? (gap.prev?.index ?? 0) + 0.5;
        for (let i = 0; i < Math.min(missing.count, MAX_NAMED_PER_GAP); i += 1) {
          pending.push({ order, missionId: gap.missionId, version: missing.from + i, detail: `missing from the log: ${after}` });
        }
        if (missing.count > MAX_NAMED_PER_GAP) {
          out.push({
            order,
            finding: {
              kind: 'deleted',
              missionId: gap.missionId,
              logId: '',
              detail: `and ${missing.count - MAX_NAMED_PER_GAP} more versions of this mission up to v${missing.to}`,
            },
          });
        }
        continue;
      }
      const successor = g.missionBreaks.find((mb) => mb.at && mb.prev);
      const tail = g.missionBreaks.find((mb) => !mb.at && mb.prev);
      const firstOwn = g.missionBreaks.find((mb) => mb.at && !mb.prev);
      const logBreak = g.logBreaks.find((br) => br.at);
      // The log head is a log link too: with the mission's h naming the same lost hash, the log's last event changed.
      const headBreak = g.logBreaks.find((br) => !br.at);
      if (successor?.at && successor.prev) {
        name(successor.prev, 'edited', `its stored JSON changed: ${describe(successor.at)} links to it by a hash (${short(link)}) that no stored event has`);
      } else if (logBreak?.at && logBreak.prev && tail?.prev && logBreak.prev.index === tail.prev.index) {
        name(
          tail.prev,
          'edited',
          `its stored JSON changed: the next event ${describe(logBreak.at)} and the mission's h name ${short(link)}, which no stored event has`,
        );
      } else if (headBreak?.prev && tail?.prev && headBreak.prev.index === tail.prev.index) {
        name(
          tail.prev,
          'edited',
          `its stored JSON changed: it is the log's last event, and the log head and the mission's h name ${short(link)}, which no stored event has`,
        );
      } else if (tail?.prev && !logBreak) {
        name(tail.prev, 'head-mismatch', `the mission's h names ${short(link)}, which no stored event has: h was changed, or this, its last event`);
      } else if (firstOwn?.at) {
        name(firstOwn.at, 'edited', `first event of its mission, but its prevHash is ${short(link)} instead of ''`);
      } else if (logBreak?.at && logBreak.prev) {
        // Decided once the deletions' log ids are known: one of them may sit right here.
        suspects.push({ after: logBreak.prev, before: logBreak.at, link });
      } else if (logBreak?.at) {
        out.push({
          order: logBreak.index - 0.5,
          finding: {
            kind: 'deleted',
            missionId: logBreak.at.missionId,
            logId: '',
            detail: `events before ${describe(logBreak.at)}, the first in the log, are missing: it links to ${short(link)}`,
          },
        });
      } else if (g.logBreaks[0]?.prev) {
        const prev = g.logBreaks[0].prev;
        const unvouched = withoutH.some((mb) => mb.prev?.index === prev.index) ? `; its mission has no h either, so nothing vouches for it` : '';
        name(
          prev,
          'head-mismatch',
          `the log head names ${short(link)}, which no stored event has: the last event changed or events after it were removed${unvouched}`,
        );
      }
    }

    // 5. Versions that skip or repeat although the hash links hold.
    for (const jump of this.versionJumps) {
      if (isNamed(jump.at) || isNamed(jump.prev)) continue;
      name(jump.at, 'version-gap', `version ${jump.at.version} follows version ${jump.prev?.version ?? 0} of its mission (hash links intact)`);
    }

    // 6. Missions in the index with no event left in the log.
    for (const absent of this.absentMissions) {
      const versions = Array.from({ length: Math.min(absent.liveVersion, MAX_NAMED_PER_GAP) }, (_, i) => i + 1);
      if (versions.length === 0) {
        out.push({
          order: this.count,
          finding: { kind: 'deleted', missionId: absent.missionId, logId: '', detail: 'in the mission index, but no event of it is in the log' },
        });
      }
      for (const version of versions) {
        pending.push({
          order: this.count,
          missionId: absent.missionId,
          version,
          detail: 'missing from the log: the mission is in the index but none of its events is in the log',
        });
      }
    }

    // 7. Versions past a mission's last logged event that its event list still names (the first
    //    MAX_NAMED_PER_GAP: the mission is named, and history lists every version missing).
    const claimedPending = new Set(pending.map((p) => `${p.missionId} ${p.version}`));
    for (const { last, through } of this.claimedTails) {
      const detail = `missing from the log: the mission's event list (what history and state read) names its log entry after its last event in the log, ${describe(last)}`;
      for (let version = last.version + 1; version <= Math.min(through, last.version + MAX_NAMED_PER_GAP); version += 1) {
        if (!claimedPending.has(`${last.missionId} ${version}`)) {
          pending.push({ order: last.index + 0.5, missionId: last.missionId, version, detail, listedAfter: last.logId });
        }
      }
    }

    const deletions = await resolveDeletedIds(redis, keys, pending);
    for (const deletion of deletions) out.push(deletion);
    for (const { after, before, link } of suspects) {
      const between = deletions.some(
        ({ finding }) => finding.logId && compareLogIds(after.logId, finding.logId) < 0 && compareLogIds(finding.logId, before.logId) < 0,
      );
      if (!between) {
        name(
          after,
          'edited',
          `its stored JSON changed (or an event after it was removed): the next event ${describe(before)} links to ${short(link)}, which no stored event has`,
        );
      }
    }
    for (const mb of withoutH) if (mb.prev) name(mb.prev, 'head-mismatch', `mission ${mb.missionId} has no h (hash of its last event)`);
    if (this.withoutHUnnamed > 0) {
      // A head-mismatch, as each named one: their read model's loss, which rebuild mends, not a change of the log.
      out.push({
        order: this.count + 1,
        finding: {
          kind: 'head-mismatch',
          missionId: '',
          logId: '',
          detail: `and ${this.withoutHUnnamed} more missions have no h (hash of their last event), not named one by one`,
        },
      });
    }
    const last = this.lastRef;
    this.unanchored =
      (this.headBreak !== null || this.headUnchecked) && last !== null && this.missionBreaks.some((mb) => !mb.at && mb.prev?.index === last.index)
        ? last.missionId
        : null;
    if (this.truncated) {
      out.push({
        order: this.count + 1,
        finding: { kind: 'edited', missionId: '', logId: '', detail: `more than ${this.maxBrokenLinks} broken links; only the first ones were explained` },
      });
    }
    return out.sort((a, b) => a.order - b.order).map((entry) => entry.finding);
  }

  /** Second walk: where the hashes that links point to are, and which events next to a break something links to. */
  private async locate(redis: RedisConnection, keys: PartitionKeys, end: string, options: ChainFindingOptions): Promise<Located> {
    const wanted = new Set<string>();
    const candidates = new Set<string>();
    const consider = (link: string, ...refs: (EventRef | null)[]) => {
      if (link) wanted.add(link);
      for (const ref of refs) if (ref) candidates.add(ref.hash);
    };
    for (const br of this.logBreaks.values()) consider(br.link, br.at, br.prev);
    if (this.headBreak) consider(this.headBreak.link, this.headBreak.prev);
    for (const mb of this.missionBreaks) consider(mb.link, mb.at, mb.prev);
    const copies = new Map<string, EventRef[]>();
    for (const br of this.logBreaks.values()) if (br.at) copies.set(br.at.hash, []);

    const located = new Map<string, EventRef>();
    const referenced = new Set<string>();
    const cursor = new LogCursor(redis, keys.log, options.batchSize ?? DEFAULT_LOG_BATCH, end);
    let index = 0;
    for await (const batch of cursor.batches()) {
      for (const entry of batch) {
        const hash = sha1Hex(entry.json);
        const wantedHere = wanted.has(hash) && !located.has(hash);
        const places = copies.get(hash);
        if (wantedHere || places) {
          const stored = parseStored(entry.json);
          const version = stored && Number.isInteger(stored.version) ? (stored.version as number) : 0;
          const ref = { index, logId: entry.logId, missionId: entry.missionId, version, hash };
          if (wantedHere) located.set(hash, ref);
          places?.push(ref);
        }
        const [missionPrev, logPrev] = links(entry.json);
        if (candidates.has(missionPrev)) referenced.add(missionPrev);
        if (candidates.has(logPrev)) referenced.add(logPrev);
        index++;
      }
      options.onProgress?.({ phase: LOCATE_PHASE, done: index, total: this.count });
    }
    // Only links in stored events count: the log head and a mission's h are rewritten by every
    // append (and by an import), so they vouch for nothing about how an event got into the log.
    return { located, referenced, copies };
  }

  private noteFirst({ missionId, logId, version }: EventRef, detail: string): void {
    this.first ??= { missionId, logId, version, detail };
  }

  /**
   * A mission without an h (its hash deleted, say) is its read model's loss, not a break of the log:
   * rebuild writes its hash whole. Counted apart from the breaks, so that any number of them neither
   * takes the room of the log's own breaks nor makes the log read as too broken to explain (an
   * `edited` of no mission, after which rebuild mended nothing). Past maxBrokenLinks they are only
   * counted, to hold no more of them than of the breaks; the mission of the log's last event is
   * always kept, as unanchoredMission reads it: with the log head not naming that event either,
   * nothing vouches for it.
   */
  private noteWithoutH(mb: MissionBreak): void {
    if (this.withoutHKept < this.maxBrokenLinks || mb.prev === this.lastRef) {
      this.withoutHKept++;
      this.missionBreaks.push(mb);
    } else {
      this.withoutHUnnamed++;
    }
  }

  private note(record: () => void): void {
    if (this.anomalies >= this.maxBrokenLinks) {
      this.truncated = true;
      return;
    }
    this.anomalies++;
    record();
  }
}

function malformation(entry: StoredEntry, stored: StoredObject | null): string | undefined {
  if (entry.malformed) return entry.malformed;
  if (!entry.json) return 'the log entry has no event JSON (field e)';
  if (!stored) return 'the stored event is not valid JSON';
  if (!entry.missionId) return 'the log entry has no mission id (field m)';
  if (stored.missionId !== entry.missionId) return `the log entry says mission ${entry.missionId} but the event says ${String(stored.missionId)}`;
  if (typeof stored.prevHash !== 'string' || typeof stored.logPrevHash !== 'string') return 'the stored event has no prevHash/logPrevHash';
  if (!Number.isSafeInteger(stored.version) || (stored.version as number) < 1) return 'the stored event has no whole version of 1 or more';
  return undefined;
}

/**
 * The missions whose log events the chain findings name as changed (edited, deleted, inserted, duplicate,
 * reordered, a version gap, unreplayable, misplaced): '' for a finding about no single mission.
 * Not a drifted read model, which rebuild repairs, nor a head that names no last event: a
 * mission's `h` (rebuild never writes one it has, and writes the whole hash of a mission whose
 * hash is gone, the documented remedy) or the log head, unless neither names the log's last event
 * (`unanchored`, ChainChecker.unanchoredMission): then nothing vouches for that event. rebuild
 * leaves the read model of these missions alone, and verify says their drift follows the change.
 * What this vouches for: each event but the log's last is held to the next event's logPrevHash
 * (and its mission's next event's prevHash), which the walk checks; the log's last event only to
 * the log head and its mission's `h`, which are read-model keys. Someone who rewrites an event and
 * every hash after it, the log head included, is not caught (README: the log heads are the anchors).
 */
export function logChangedMissions(findings: readonly Finding[], unanchored: string | null): string[] {
  const named = findings.filter((finding) => finding.kind !== 'read-model-drift' && finding.kind !== 'head-mismatch').map((finding) => finding.missionId);
  // A head-mismatch that leaves the log's last event with neither the log head nor its h naming it: nothing vouches for that event.
  if (unanchored !== null) named.push(unanchored);
  return named;
}

/** Orders stream entry ids (<ms>-<seq>) as Redis does. */
export function compareLogIds(a: string, b: string): number {
  const [aMs, aSeq = '0'] = a.split('-');
  const [bMs, bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  const diff = ms !== 0n ? ms : BigInt(aSeq) - BigInt(bSeq);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

/** Versions of the mission that a break's links skip over. */
function missingVersions(mb: MissionBreak): { from: number; to: number; count: number } {
  const from = (mb.prev?.version ?? 0) + 1;
  const to = mb.at ? mb.at.version - 1 : (mb.liveVersion ?? 0);
  // A range, not a list: a forged version can make it as long as a number goes.
  return { from, to, count: to >= from ? to - from + 1 : 0 };
}

/** The two links of a stored event: read off its end as the event store writes it, else parsed. */
function links(json: string): [string, string] {
  const match = LINKS_AT_END.exec(json);
  if (match) return [match[1], match[2]];
  const stored = parseStored(json);
  return [typeof stored?.prevHash === 'string' ? stored.prevHash : '', typeof stored?.logPrevHash === 'string' ? stored.logPrevHash : ''];
}

/**
 * Whether `id` can name a stream entry: one that cannot (out of 64-bit range) made XRANGE fail the
 * whole pipeline, and one bad entry in any event list stopped verify and rebuild.
 */
function isLogId(id: string): boolean {
  const parts = LOG_ID.exec(id);
  return parts !== null && BigInt(parts[1]) <= MAX_ID_PART && BigInt(parts[2]) <= MAX_ID_PART;
}

/**
 * A deleted event's log entry id is still in the mission's event list (XDEL does not touch it);
 * it is reported when that entry is indeed gone from the log.
 */
async function resolveDeletedIds(redis: RedisConnection, keys: PartitionKeys, pending: PendingDeletion[]): Promise<{ order: number; finding: Finding }[]> {
  if (pending.length === 0) return [];
  const listed = redis.pipeline();
  for (const p of pending) listed.lindex(keys.missionEvents(p.missionId), p.version - 1);
  // A list entry that is no log id names no entry (and XRANGE would refuse it).
  const ids = ((await execAll(listed)) as (string | null)[]).map((id) => (id !== null && isLogId(id) ? id : null));
  const present = redis.pipeline();
  for (const id of ids) present.xrange(keys.log, id ?? '0-1', id ?? '0-1');
  const entries = (await execAll(present)) as unknown[][];
  // XDEL leaves the stream's last generated id as it was: an id past it was never in the log.
  const lastWritten = pending.some((p) => p.listedAfter !== undefined) ? await lastGeneratedId(redis, keys.log) : '0-0';
  const claimedGone = (p: PendingDeletion, id: string): boolean =>
    p.listedAfter === undefined || (compareLogIds(p.listedAfter, id) < 0 && compareLogIds(id, lastWritten) <= 0);
  return pending.flatMap((p, i) => {
    const id = ids[i];
    const gone = id !== null && entries[i].length === 0 && claimedGone(p, id);
    if (!gone && p.listedAfter !== undefined) return [];
    return [
      {
        order: p.order,
        finding: {
          kind: 'deleted' as const,
          missionId: p.missionId,
          logId: gone ? id : '',
          version: p.version,
          detail: gone ? p.detail : `${p.detail} (its log entry id is unknown)`,
        },
      },
    ];
  });
}

/** The id of the last entry ever added to the stream (kept when it is deleted); '0-0' when there is no stream. */
async function lastGeneratedId(redis: RedisConnection, log: string): Promise<string> {
  // No stream (or no stream at that key): nothing was ever written there.
  const info = (await redis.xinfo('STREAM', log).catch(() => [])) as unknown[];
  const at = info.indexOf('last-generated-id');
  return at >= 0 ? String(info[at + 1]) : '0-0';
}
