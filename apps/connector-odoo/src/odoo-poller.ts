import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { validateSubmitMission } from '@app/messages';
import { missionTextProblem } from '@app/mission';
import { MissionClient } from '@app/mission-client';
import { LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { annotateSpan, ServiceTracer } from '@app/tracing';
import { ConnectorKeys } from './connector-keys';
import { OdooClient } from './odoo-client';
import { fieldsOf, missionOf, OdooMapping, OdooMappingRule, recordFieldProblems } from './odoo-mapping';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { OdooPollError } from './odoo-poll-error';
import { OdooRefusals, RefusedRecord, recordField } from './odoo-refusals';

/** What OdooPoller.poll resolves with when its own last round still holds the lock: no round, and not another instance's turn. */
export const NOT_DUE = 'not due';

/** Records read per search_read. */
const PAGE = 100;

/** Calls to Odoo in the longest step of a round (see stillMine). */
const STEP_CALLS = 3;

enum LockCode {
  Renewed = 0,
  NotHeld = 1,
}

const renewLockScript = new LuaScript(join(__dirname, 'lua'), 'renew-odoo-poll-lock-1', { constants: { CODE: luaEnum(LockCode) } });

export interface OdooPollerOptions {
  pollMs: number;
  /** ODOO_TIMEOUT_MS: the longest one call to Odoo takes, so the poll lock outlives any one step of a round. */
  timeoutMs: number;
  /** MAX_MISSION_TEXT_BYTES, as the intake refuses a longer mission after the command is sent. */
  maxMissionTextBytes: number;
  /** ODOO_LOOKBACK_MS: how far before each rule's cursor every round reads again (0: not at all); see lookBack. */
  lookbackMs: number;
  /** A refusal note that could not be posted (it is tried again later). */
  onNoteFailure: (refusal: RefusedRecord, error: unknown) => void;
  /** ODOO_SINCE (ms): where a rule with no cursor begins reading; absent or null, where the connector started (see startOf). */
  since?: number | null;
  clock?: () => number;
}

/**
 * In: reads each rule's records changed after its cursor (`write_date`, then `id`, so records
 * written in the same second are neither skipped nor read twice), and again those of the last
 * ODOO_LOOKBACK_MS before it (a record committed after later ones, see lookBack), turns each new one into a
 * mission and submits it over the intake stream with its Odoo `source` and the connector's own
 * idempotency key (OdooMissionIdentity), by which the intake de-duplicates. Records taken in before are skipped (a later edit does not make a second mission).
 * Then it reads what the intake refused since, takes in again what an agent can now take, and
 * tells Odoo of refusals (OdooRefusals).
 * Instances take turns: a round holds a Redis lock from its start, renewed at every step so that
 * no other instance's round overlaps it, and kept for half of ODOO_POLL_MS after it. One that
 * overlaps anyway (a step that outlived the lock) changes nothing twice.
 * With tracing on, each poll an instance makes is a span that starts a trace, and the missions it
 * submits continue it: their trace begins where Odoo's record came in.
 */
export class OdooPoller {
  /** This instance's token in the poll lock. */
  private readonly lockToken = randomUUID();
  /** The round's stop signal (poll's): once aborted, no step of the round is started. */
  private stopping: AbortSignal = new AbortController().signal;
  /** Whether this round's lock lapsed to another holder: the round ended early, and was no poll of this instance's. */
  private lockLost = false;
  /** When this connector started: a rule with no cursor and no ODOO_SINCE reads the records written from then on. */
  private readonly startedAt: number;

  constructor(
    private readonly odoo: OdooClient,
    private readonly missions: MissionClient,
    private readonly redis: RedisConnection,
    private readonly keys: ConnectorKeys,
    private readonly mapping: OdooMapping,
    private readonly refusals: OdooRefusals,
    private readonly options: OdooPollerOptions,
    private readonly identity: OdooMissionIdentity,
    private readonly tracer: ServiceTracer = new ServiceTracer(null),
  ) {
    this.startedAt = (options.clock ?? Date.now)();
  }

  /** Half a period: instances polling on the same period take turns, and one whose timer fires a little early does not find its own lock. */
  private get turnMs(): number {
    return Math.max(50, Math.floor(this.options.pollMs / 2));
  }

  /**
   * Whether this instance still holds the lock, renewed for the next step: the longest step makes
   * STEP_CALLS calls to Odoo (a note: a login again after an error, the chatter search, the post),
   * each at most ODOO_TIMEOUT_MS, and one more for margin.
   */
  private async stillMine(): Promise<boolean> {
    // Stopping: the rest of the round is the next holder's, as when the lock lapses.
    if (this.stopping.aborted) return false;
    const ttl = Math.max(this.turnMs, (STEP_CALLS + 1) * this.options.timeoutMs);
    const held = (await renewLockScript.run(this.redis, [this.keys.pollLock], [this.lockToken, ttl])) === LockCode.Renewed;
    if (!held) this.lockLost = true;
    return held;
  }

  /**
   * How long (ms) the poll lock still holds, whoever holds it; 0 when none does. An instance waiting
   * for its turn (ConnectorHost) tries the lock then, before its holder's next round.
   */
  async turnLeftMs(): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys.pollLock));
  }

  /**
   * One round over every rule; resolves with the missions submitted, null when it is another
   * instance's turn, or NOT_DUE when this instance still holds the lock from its own last round (a
   * retry after a failure sooner than half a period): that is no other instance polling, whose turn
   * the caller checks its login on. Once `stop` is aborted no further step starts (each could wait
   * out ODOO_TIMEOUT_MS per call on a hanging Odoo): what is left is the next round's.
   */
  async poll(stop: AbortSignal = new AbortController().signal): Promise<number | null | typeof NOT_DUE> {
    this.stopping = stop;
    if ((await this.redis.set(this.keys.pollLock, this.lockToken, 'PX', this.turnMs, 'NX')) !== 'OK')
      return (await this.redis.get(this.keys.pollLock)) === this.lockToken ? NOT_DUE : null;
    this.lockLost = false;
    // `{}`: no parent, whatever the caller's context; a poll is work of its own.
    const submitted = await this.tracer
      .inSpan('poll odoo', {}, SpanKind.INTERNAL, { 'brain.odoo.rules': this.mapping.rules.length }, async () => {
        let submitted = 0;
        // A rule that fails (a model this Odoo lacks, a field it refuses) must not stop the rules after it.
        const failed: { rule: string; error: unknown }[] = [];
        for (const rule of this.mapping.rules) {
          if (stop.aborted) return submitted;
          try {
            submitted += await this.pollRule(rule);
          } catch (error) {
            if (error instanceof PollLockLostError) {
              this.lockLost = true;
              return submitted;
            }
            failed.push({ rule: rule.name, error });
          }
        }
        // What the intake refused since the last round (skills no agent has), told to Odoo with the
        // connector's own refusals. Each step apart, as the rules: a retake whose rule fails, or a
        // Redis error reading the refusals, must not hold up the notes of every other record.
        const refusalProblems: string[] = [];
        const refusalStep = async (step: string, run: () => Promise<void>) => {
          try {
            if (await this.stillMine()) await run();
          } catch (error) {
            refusalProblems.push(`${step}: ${describe(error)}`);
          }
        };
        await refusalStep('refusals', async () => {
          await this.refusals.readRejected(this.lockToken);
        });
        await refusalStep('retakes', async () => {
          submitted += await this.retake(refusalProblems);
        });
        await refusalStep('refusal notes', async () => {
          await this.refusals.postNotes(this.options.onNoteFailure, () => this.stillMine());
        });
        annotateSpan('brain.odoo.submitted', submitted);
        // Every rule failing is Odoo failing (down, a wrong key): its own error, for the caller's backoff.
        if (failed.length > 0 && failed.length === this.mapping.rules.length) throw failed[0].error;
        const problems = failed.map(({ rule, error }) => `rule ${rule}: ${describe(error)}`);
        problems.push(...refusalProblems);
        if (problems.length > 0) throw new OdooPollError(problems, submitted);
        return submitted;
      })
      .finally(async () => {
        // Held for half a period after the round too, as from its start: the instances take turns.
        await renewLockScript.run(this.redis, [this.keys.pollLock], [this.lockToken, this.turnMs]).catch(() => undefined);
      });
    // A round whose lock lapsed to another holder, or that the stop cut short, ended early, having
    // asked Odoo nothing of its rules after that: no poll that succeeded (it wrote one into the
    // shared status, over a failure, and made a wrong key's instance look as if it polled).
    return this.lockLost || stop.aborted ? null : submitted;
  }

  /**
   * Takes in again the records the intake refused for skills no agent had, now that one has them:
   * each is read again from Odoo (by every rule of its model, as it reads it now) and sent as a
   * record never taken in. A rule that fails is named in `problems`, and the rules after it still
   * run. How many went in.
   */
  private async retake(problems: string[]): Promise<number> {
    const due = await this.refusals.dueForRetake();
    const found = new Set<string>();
    // Models a rule could not read this round: their records may still be there.
    const unread = new Set<string>();
    let submitted = 0;
    for (const rule of this.mapping.rules) {
      const ids = due.filter((record) => record.model === rule.model).map((record) => record.recordId);
      try {
        for (let start = 0; start < ids.length; start += PAGE) {
          if (!(await this.stillMine())) return submitted;
          const records = await this.read(rule, [['id', 'in', ids.slice(start, start + PAGE)]], 'id asc');
          for (const record of records) found.add(recordField({ model: rule.model, recordId: record.id }));
          if (records.length > 0) submitted += await this.takeIn(rule, records);
        }
      } catch (error) {
        if (error instanceof PollLockLostError) {
          this.lockLost = true;
          return submitted;
        }
        unread.add(rule.model);
        problems.push(`retake for rule ${rule.name}: ${describe(error)}`);
      }
    }
    // Deleted in Odoo, or out of every rule now: not read again each round; an edit back into a rule takes it in.
    await this.refusals.forgetRetakes(due.filter((record) => !unread.has(record.model) && !found.has(recordField(record))).map(recordField));
    return submitted;
  }

  /**
   * Reads the rule's records second by second. Odoo keeps `write_date` to the microsecond but
   * returns it cut to the second, so a cursor can only name a second: the records of the cursor's
   * second are read by id (after the last id taken), then the next second that has any is found,
   * and read the same way. One write that touches hundreds of records gives them all one time; a
   * cursor of "after this second's time" would read them again without end.
   */
  private async pollRule(rule: OdooMappingRule): Promise<number> {
    let submitted = await this.lookBack(rule);
    for (;;) {
      // Each pass reads Odoo once or twice: a rule with much to read renews the lock as it goes. Once
      // it has lapsed (a step outlived it), the rest of the round is the next holder's.
      if (!(await this.stillMine())) return submitted;
      const cursor = (await this.redis.hget(this.keys.cursors, rule.name)) ?? '';
      if (!cursor) {
        const next = await this.firstSecond(rule, [['write_date', '>=', await this.startOf(rule)]]);
        if (next === null) return submitted;
        await this.moveCursor(rule, cursor, `${next}|0`);
        continue;
      }
      const second = cursorSecond(cursor);
      const lastId = cursorId(cursor);
      const following = shiftedSecond(second, 1_000);
      const records = await this.read(rule, ['&', '&', ['write_date', '>=', second], ['write_date', '<', following], ['id', '>', lastId]], 'id asc');
      let reached = cursor;
      if (records.length > 0) {
        // Checked before any is taken in: a record outside the window asked for is no reading forward.
        if (outsideWindow(records, second, following, lastId)) throw outsideTheDomain(rule, cursor, `${second}|${records[records.length - 1].id}`);
        submitted += await this.takeIn(rule, records);
        reached = `${second}|${records[records.length - 1].id}`;
        await this.moveCursor(rule, cursor, reached);
        if (records.length === PAGE) continue;
      }
      const next = await this.firstSecond(rule, [['write_date', '>=', following]]);
      if (next === null) return submitted;
      await this.moveCursor(rule, reached, `${next}|0`);
    }
  }

  /**
   * The second a rule's reading begins at (Odoo's UTC text): ODOO_SINCE, else when a connector first
   * polled the rule, kept in Redis so that a restart before its first record does not move it on.
   * It read from the oldest record: pointed at a production Odoo, every ticket it ever had became a
   * mission, and results went to years-old chatters (with ODOO_POST_AS=comment, mailed to past guests).
   * Asked only while the rule has no cursor; ODOO_SINCE is stored too, as the start lookBack keeps
   * to: it read ODOO_SINCE as it stood at each round, and one unset or moved later read before the
   * start (old records became missions) or left the look back empty (late commits were lost).
   */
  private async startOf(rule: OdooMappingRule): Promise<string> {
    if (this.options.since != null) {
      const since = secondOf(this.options.since);
      await this.redis.hset(this.keys.starts, rule.name, since);
      return since;
    }
    const started = secondOf(this.startedAt);
    await this.redis.hsetnx(this.keys.starts, rule.name, started);
    return (await this.redis.hget(this.keys.starts, rule.name)) ?? started;
  }

  /**
   * Stores the rule's cursor, which must move strictly forward: only that ends a round. An Odoo (or a
   * proxy) that answers outside the domain sent it back and forth between two places, ~200 calls a
   * second without a log line; the rule fails instead, named in the status, readiness and log like any
   * rule that fails, and the cursor stays where it was.
   */
  private async moveCursor(rule: OdooMappingRule, current: string, next: string): Promise<void> {
    if (current && !cursorAfter(next, current)) throw outsideTheDomain(rule, current, next);
    await this.redis.hset(this.keys.cursors, rule.name, next);
  }

  /**
   * Reads again the rule's records written in the ODOO_LOOKBACK_MS before its cursor's second (and
   * in that second), and takes in those never taken in or set aside. Odoo stamps `write_date` with
   * the time its transaction began, and hands out ids before the commit: a record made in a long
   * transaction (the mail gateway fetching a batch of mails) commits after records written later,
   * and by then the cursor has passed its time and id. The cursor alone left it behind for good.
   */
  private async lookBack(rule: OdooMappingRule): Promise<number> {
    const cursor = this.options.lookbackMs > 0 ? await this.redis.hget(this.keys.cursors, rule.name) : null;
    if (!cursor) return 0;
    const second = cursorSecond(cursor);
    // Never before the rule's start, as stored when its cursor began (ODOO_SINCE now, set or not,
    // holds only for a rule with no cursor): the records written before it are history, not late
    // commits. Only a start already set: a rule whose cursor is older than starts were kept has none.
    const start = (await this.redis.hget(this.keys.starts, rule.name)) ?? '';
    const lookedBack = shiftedSecond(second, -this.options.lookbackMs);
    const from = lookedBack > start ? lookedBack : start;
    const before = shiftedSecond(second, 1_000);
    const window = ['&', '&', ['write_date', '>=', from], ['write_date', '<', before]];
    let submitted = 0;
    for (let afterId = 0; ;) {
      if (!(await this.stillMine())) return submitted;
      const records = await this.read(rule, [...window, ['id', '>', afterId]], 'id asc');
      // As the cursor's reading: nothing outside the window asked for is taken in.
      if (outsideWindow(records, from, before, afterId)) throw outsideTheDomain(rule, `id ${afterId}`, `id ${records[records.length - 1].id}`);
      // Set aside before: its note is posted; only an edit (a later write_date) takes it in again.
      const setAside =
        records.length > 0
          ? await this.redis.hmget(this.keys.refused, ...records.map((record) => recordField({ model: rule.model, recordId: record.id })))
          : [];
      const candidates = records.filter((_, i) => setAside[i] === null);
      if (candidates.length > 0) submitted += await this.takeIn(rule, candidates);
      if (records.length < PAGE) return submitted;
      // Every id is past afterId (outsideWindow): the next page starts after this one.
      afterId = records[records.length - 1].id;
    }
  }

  /** The second (as Odoo returns write_date) of the rule's first record matching `after`, or null. */
  private async firstSecond(rule: OdooMappingRule, after: unknown[]): Promise<string | null> {
    const [first] = await this.odoo.executeKw<{ id: number; write_date: string }[]>(rule.model, 'search_read', [[...after, ...rule.domain]], {
      fields: ['write_date'],
      order: 'write_date asc, id asc',
      limit: 1,
    });
    if (!first) return null;
    const second = String(first.write_date).slice(0, SECOND_LENGTH);
    const at = Date.parse(`${second.replace(' ', 'T')}Z`);
    const named = `Odoo's search_read on ${rule.model} gave record ${first.id} the write_date ${JSON.stringify(first.write_date)}`;
    // Stored as the cursor, it would fail every round after, the record fixed or not, until deleted by hand.
    if (!ODOO_SECOND.test(second) || Number.isNaN(at)) {
      throw new Error(`${named}, which is no date and time (YYYY-MM-DD HH:MM:SS): this rule stops for this round`);
    }
    // The cursor would pass every record written until then: each one Odoo stamps now would be older than it, never read.
    if (at > Date.now() + FUTURE_WRITE_DATE_TOLERANCE_MS) {
      throw new Error(
        `${named}, more than an hour ahead of this connector's clock: the rule reads up to it and stops there until it is corrected (check that record, and Odoo's clock)`,
      );
    }
    return second;
  }

  private read(rule: OdooMappingRule, within: unknown[], order: string): Promise<(Record<string, unknown> & { id: number; write_date: string })[]> {
    return this.odoo.executeKw(rule.model, 'search_read', [[...within, ...rule.domain]], { fields: fieldsOf(rule), order, limit: PAGE });
  }

  /** Submits the records not taken in before; sets aside those the intake would refuse. How many went in. */
  private async takeIn(rule: OdooMappingRule, records: readonly (Record<string, unknown> & { id: number })[]): Promise<number> {
    const seen = await this.redis.hmget(this.keys.submitted, ...records.map((record) => recordField({ model: rule.model, recordId: record.id })));
    const fresh = records.filter((_, i) => seen[i] === null).map((record) => ({ record, mission: missionOf(this.mapping, rule, record) }));
    // A record the intake would refuse (no visible title, a description too long, text over
    // MAX_MISSION_TEXT_BYTES) must not hold up the rest: it is set aside with the reason, and taken in
    // again once an edit makes it valid. Checked here rather than left to the intake, whose refusals
    // come back a round later. Every reason is named, so the one edit the note asks for is enough.
    const refused = fresh.map(({ record, mission }) => {
      const checked = validateSubmitMission({ mission });
      const problems = [
        ...recordFieldProblems(rule, record),
        ...(checked.ok ? [] : checked.problems),
        missionTextProblem(mission, this.options.maxMissionTextBytes),
      ].filter((problem) => problem !== null);
      return problems.length > 0 ? problems.join('; ') : null;
    });
    const valid = fresh.filter((_, i) => refused[i] === null);
    await this.refusals.setAside(
      fresh.flatMap(({ record }, i) => {
        const reason = refused[i];
        return reason === null
          ? []
          : [{ model: rule.model, recordId: record.id, missionId: this.identity.missionIdFor({ model: rule.model, recordId: record.id }), reason }];
      }),
    );
    if (valid.length === 0) return 0;
    // Keyed by the connector's mark: only its own missions are written back (OdooMissionIdentity).
    const ids = await this.missions.createMany(
      valid.map(({ mission }) => mission),
      valid.map(({ record }) => ({ idempotencyKey: this.identity.idempotencyKeyFor({ model: rule.model, recordId: record.id }) })),
    );
    const sent = new Map(valid.map(({ record }, i) => [recordField({ model: rule.model, recordId: record.id }), ids[i]]));
    if (!(await this.refusals.recordTakenIn(sent, this.lockToken))) throw new PollLockLostError();
    return valid.length;
  }
}

/** 'YYYY-MM-DD HH:MM:SS': Odoo's datetime text, to the second. */
const SECOND_LENGTH = 19;
/**
 * How far ahead of this connector's clock a write_date may be before the cursor refuses to move to
 * it: more than the two machines' clocks ever differ, less than what a mistyped year does.
 */
const FUTURE_WRITE_DATE_TOLERANCE_MS = 3_600_000;
/** A write_date's second as Odoo gives it, UTC: `2026-12-06 09:00:04`. */
const ODOO_SECOND = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The second a cursor (`<second>|<last id>`) names. */
function cursorSecond(cursor: string): string {
  return cursor.slice(0, cursor.lastIndexOf('|'));
}

/** Whether cursor `a` is after cursor `b`: a later second, or the same second and a higher id. Seconds in one format compare as text. */
function cursorAfter(a: string, b: string): boolean {
  const [secondA, secondB] = [cursorSecond(a), cursorSecond(b)];
  return secondA > secondB || (secondA === secondB && cursorId(a) > cursorId(b));
}

/** The last id taken in that a cursor (`<second>|<last id>`) names. */
function cursorId(cursor: string): number {
  return Number(cursor.slice(cursor.lastIndexOf('|') + 1));
}

/** `second` (Odoo's UTC datetime text) moved by `ms`, in the same format. */
function shiftedSecond(second: string, ms: number): string {
  return secondOf(Date.parse(`${second.replace(' ', 'T')}Z`) + ms);
}

/** An instant (ms) as Odoo's UTC datetime text, to the second. */
function secondOf(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, SECOND_LENGTH);
}

/**
 * The round's lock passed to another instance while it sent records (a step outlived the lock):
 * nothing more is written, and the rule's cursor stays before those records, which the holder
 * reads and sends again.
 */
class PollLockLostError extends Error {
  constructor() {
    super('the poll lock passed to another instance during the round');
    this.name = 'PollLockLostError';
  }
}

/**
 * Whether a page holds a record outside the window its read asked for (written in the seconds from
 * `from` up to `before`, with an id after `afterId`): an Odoo, or a proxy, that ignores the domain.
 * Such a page is refused whole before any of it is taken in; the rule's own domain cannot be checked
 * here, the window can.
 */
function outsideWindow(records: readonly { id: number; write_date: string }[], from: string, before: string, afterId: number): boolean {
  return records.some(({ id, write_date: written }) => {
    const second = String(written).slice(0, SECOND_LENGTH);
    return id <= afterId || second < from || second >= before;
  });
}

/** A rule's reading that would not move forward: Odoo (or a proxy before it) answered outside the domain. */
function outsideTheDomain(rule: OdooMappingRule, from: string, to: string): Error {
  return new Error(
    `Odoo's search_read on ${rule.model} answered records outside the domain asked for: the rule's reading would go from ${from} to ${to}, not forward; this rule stops for this round`,
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
