import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AgentView } from '@app/agents';
import { forTerminal } from '@app/audit';
import {
  fetchFailureCause,
  isIsoTime,
  isSealedPageCursor,
  MISSION_EVENT_TYPES,
  MISSION_STATUSES,
  MISSION_TYPES,
  parsePageCursor,
  PRIORITY_LEVELS,
  UNAVAILABLE_MARKER,
} from '@app/mission';
import type { DeadLetterEntry as DeadLetter, Mission, MissionEvent, MissionPage, MissionReview, QueueStats } from '@app/mission';
import type { RetentionPlan, RetentionRun } from '../../apps/intake/src/retention/retention.service';
import { apiError, BrainApi, CtlError, EXIT, ExitCode, pathSegment } from './brain-api';
import { followStream, NotAnEventStreamError, StreamRefusedError } from './follow-stream';
import { age, fields, localTime, table } from './render';

/** Where the CLI writes and what it reads, so tests can run it in-process. */
export interface CtlIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Ends `missions watch` (Ctrl-C in a terminal). */
  signal?: AbortSignal;
}

interface Globals {
  json: boolean;
}

/** A review decision's answer, and the attempt whose result it decided. */
interface ReviewDecision {
  mission: Mission;
  attempt: number;
}

const DEFAULT_URL = 'http://localhost:3000';
/** Wait before `watch` reconnects after the stream dropped; it doubles with each failed reconnect… */
const RECONNECT_MS = 1_000;
/** …up to this, so an intake back after a long outage is found within half a minute. */
const MAX_RECONNECT_MS = 30_000;
/** The most a list's page holds: the intake's PageSize. */
const MAX_PAGE_SIZE = 200;
/** The most missions one bulk requeue takes: the intake's RequeueFilterBody limit. */
const MAX_REQUEUE_LIMIT = 1_000;
/** How much of a refused `--cursor` its message repeats: a cursor can be 15,362 characters. */
const CURSOR_SHOWN = 40;

export const EXIT_CODES_HELP = `
Environment:
  BRAIN_URL       the intake (default ${DEFAULT_URL})
  BRAIN_API_KEY   the API key to send (never a command-line argument, so it stays out of shell history)

Exit codes:
  0  done
  1  the API refused it (unknown id, a conflict such as an already finished mission, bad input)
  2  bad arguments (also a --limit out of range, a negative --offset, a time that is not ISO 8601,
     a --cursor that is no page's)
  3  BRAIN_API_KEY missing or wrong (401), or its role may not do this (403)
  4  the API cannot be reached, or failed (5xx)
  5  the server does not offer it (a route an older intake does not have)
  6  too many requests (429): try again when it says (the key's requests a minute are spent,
     or this address failed to authenticate too often)`;

function missionRow(mission: Mission): (string | number | null)[] {
  return [mission.id, mission.status, mission.type, mission.priority, mission.attempts, mission.assignedAgentId, localTime(mission.createdAt), mission.title];
}
const MISSION_HEAD = ['id', 'status', 'type', 'priority', 'attempts', 'agent', 'created', 'title'];

/** One line per event: what `watch` and `show --events` print. */
export function eventLine(event: MissionEvent): string {
  const data = event.data as unknown as Record<string, unknown>;
  const detail =
    event.type === 'MissionCreated'
      ? `${String(data.type)} ${String(data.priority)} "${String(data.title)}"`
      : ['agentId', 'attempt', 'reason', 'error', 'lastError', 'score', 'passed']
          .filter((key) => data[key] !== undefined)
          .map((key) => `${key}=${typeof data[key] === 'string' ? JSON.stringify(data[key]) : String(data[key])}`)
          .join(' ');
  return forTerminal(`${localTime(event.at)}  ${event.missionId}  v${event.version}  ${event.type.padEnd(19)}  ${event.actor}  ${detail}`);
}

/** Runs the CLI on `argv` (the arguments after the command name) and resolves with the exit code. */
export async function runCtl(argv: readonly string[], io: CtlIo): Promise<ExitCode> {
  const report = (error: CtlError): ExitCode => {
    io.stderr.write(`ctl: ${forTerminal(error.message, { keepLineFeeds: true })}\n`);
    return error.exitCode;
  };
  let api: BrainApi;
  try {
    api = new BrainApi(io.env.BRAIN_URL || DEFAULT_URL, io.env.BRAIN_API_KEY || undefined);
  } catch (error) {
    if (error instanceof CtlError) return report(error);
    throw error;
  }
  const out = (text: string) => io.stdout.write(`${text}\n`);
  const globals = (command: Command) => command.optsWithGlobals<Globals>();
  /**
   * JSON for scripts, or the table or text for a person; either way with every character unsafe
   * for a terminal escaped (JSON's own escapes, so the JSON means the same), whatever a line was
   * made from: stored text may predate the intake's text rule.
   */
  const show = (command: Command, value: unknown, forPerson: () => string) =>
    out(forTerminal(globals(command).json ? JSON.stringify(value, null, 2) : forPerson(), { keepLineFeeds: true }));

  const program = new Command()
    .name('brain-ctl')
    .description('Operate the BRAIN Mission System from a terminal, over its REST API.')
    .option('--json', 'print JSON for scripts instead of tables', false)
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP);
  const group = (name: string, description: string) =>
    program.command(name).description(description).addHelpText('after', EXIT_CODES_HELP).exitOverride().configureOutput(program.configureOutput());

  const missions = group('missions', 'List, show, watch and cancel missions.');
  missions
    .command('list')
    .description('List missions, newest first, with filters.')
    .addOption(new Option('--status <status>', 'only this status').choices(MISSION_STATUSES))
    .addOption(new Option('--type <type>', 'only this type').choices(MISSION_TYPES))
    .addOption(new Option('--priority <level>', 'only this priority level').choices(PRIORITY_LEVELS))
    .option('--agent <agentId>', 'only missions this agent holds or held')
    .option('--from <time>', 'created at or after (ISO 8601)')
    .option('--to <time>', 'created before (ISO 8601)')
    .option('--title <text>', 'only titles that contain this text (ignoring case)')
    .option('--limit <n>', 'page size, 1..200', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .addHelpText('after', '\nExample:\n  npm run ctl -- missions list --status dead_lettered --type pricing')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const page = await api.get<MissionPage<Mission>>('/api/missions', {
        status: options.status,
        type: options.type,
        priority: options.priority,
        agentId: options.agent,
        createdFrom: timeOption('--from', options.from),
        createdTo: timeOption('--to', options.to),
        limit: pageSizeOption(options.limit),
        cursor: cursorOption(options.cursor),
        title: options.title,
      });
      const items = page.items;
      show(command, page, () => {
        const next = page.nextCursor ? `\nmore: --cursor ${page.nextCursor}` : '';
        return `${table(MISSION_HEAD, items.map(missionRow))}\n${items.length} mission(s)${next}`;
      });
    });

  missions
    .command('show')
    .description('Show one mission: its state and, with --events, its timeline.')
    .argument('<missionId>', 'the mission')
    .option('--events', 'also print its events, oldest first', false)
    .option('--at <time>', 'the mission as it was at this time (ISO 8601)')
    .action(async (missionId: string, options: { events: boolean; at?: string }, command: Command) => {
      const mission = await api.get<Mission>(`/api/missions/${pathSegment(missionId)}`, { at: timeOption('--at', options.at) });
      const events = options.events ? await api.get<MissionEvent[]>(`/api/missions/${pathSegment(missionId)}/events`) : undefined;
      show(command, events ? { mission, events } : mission, () => {
        const state = fields([
          ['id', mission.id],
          ['title', mission.title],
          ['status', mission.status],
          ['type', mission.type],
          ['priority', `${mission.priority} (score ${mission.priorityScore})`],
          ['attempts', mission.attempts],
          ['agent', mission.assignedAgentId],
          ['last error', mission.lastError],
          ['score', mission.evaluation ? `${mission.evaluation.score} (${mission.evaluation.passed ? 'passed' : 'failed'})` : null],
          ['review', mission.review ? reviewText(mission.review) : null],
          ['version', mission.version],
          ['created', localTime(mission.createdAt)],
          ['updated', localTime(mission.updatedAt)],
        ]);
        // The request as the API gives it (personal fields `[redacted]` to a reader key): the staff's summary in
        // its lines, then the input, with the guest's words, their language, a pricing's rates, which a result is judged by.
        const request = mission.description ? `\n\nrequest:\n${mission.description}` : '';
        const payload = `\n\npayload:\n${JSON.stringify(mission.payload, null, 2)}`;
        // The output as JSON on lines of its own: a reviewer reads the whole reply before deciding.
        const output = mission.result ? `\n\noutput of attempt ${mission.attempts}:\n${JSON.stringify(mission.result.output, null, 2)}` : '';
        return `${state}${request}${payload}${output}${events ? `\n\n${events.map(eventLine).join('\n')}` : ''}`;
      });
    });

  missions
    .command('watch')
    .description('Follow mission events live (the /api/stream Server-Sent Events), one line each, until Ctrl-C.')
    .argument('[missionId]', 'only this mission')
    .addOption(
      new Option('--type <types>', `only these event types, comma-separated (${MISSION_EVENT_TYPES.join(', ')})`).argParser(
        commaListOf('event type', MISSION_EVENT_TYPES),
      ),
    )
    .addOption(
      new Option('--status <statuses>', `only events that put a mission into these statuses, comma-separated (${MISSION_STATUSES.join(', ')})`).argParser(
        commaListOf('status', MISSION_STATUSES),
      ),
    )
    .option('--from-start', 'replay the whole log first', false)
    .option('--count <n>', 'stop after this many events')
    .addHelpText(
      'after',
      '\nExits 4 when the API cannot be reached, and 1 for an unknown mission id.\n' +
        'Reconnects after a dropped connection, less often while the intake stays away (up to every 30 s), and resumes\n' +
        'where it stopped (Last-Event-ID): no event is lost.\n' +
        'Refused with 429 (too many live streams, or the key spent its minute), it waits as long as Retry-After asks.',
    )
    .action(async (missionId: string | undefined, options: { type?: string; status?: string; fromStart: boolean; count?: string }, command: Command) => {
      const json = globals(command).json;
      const limit = wholeNumberOption('--count', options.count) ?? Infinity;
      const stop = new AbortController();
      io.signal?.addEventListener('abort', () => stop.abort(), { once: true });
      const filters = { missionId, type: options.type, status: options.status };
      // The stream filters by id without knowing it: an unknown id would be watched in silence for ever.
      if (missionId) await api.get<Mission>(`/api/missions/${pathSegment(missionId)}`);
      let lastId: string | undefined;
      let seen = 0;
      let everConnected = false;
      /** Reconnects failed in a row: the outage is reported once, when it starts, and the wait grows with it. */
      let failures = 0;
      const connected = () => {
        everConnected = true;
        if (failures > 0) io.stderr.write('watch: reconnected\n');
        failures = 0;
      };
      // Read once, before the loop: without a key it is exit 3, not a drop to reconnect after.
      const authHeaders = api.authHeaders;
      while (!stop.signal.aborted) {
        let wait = RECONNECT_MS;
        // After a drop, resume after the last event seen, whatever --from-start said.
        const url = api.url('/api/stream', { ...filters, from: options.fromStart && lastId === undefined ? 'start' : undefined });
        try {
          await followStream(
            url,
            { ...authHeaders, ...(lastId ? { 'Last-Event-ID': lastId } : {}) },
            (message) => {
              if (stop.signal.aborted) return;
              connected();
              lastId = message.id ?? lastId;
              const event = JSON.parse(message.data) as MissionEvent;
              out(json ? forTerminal(JSON.stringify(event)) : eventLine(event));
              seen += 1;
              if (seen >= limit) stop.abort();
            },
            stop.signal,
            // Where this connection starts: a drop before its first event resumes from there, not from a later "now".
            (position) => {
              connected();
              lastId = position;
            },
            // The events after it show guest data as [unavailable]: the operator learns why (the 503's body), once per connection.
            (errorBody) =>
              io.stderr.write(`watch: ${forTerminal(apiError(503, errorBody, 'GET /api/stream').message)}; its fields show as ${UNAVAILABLE_MARKER}\n`),
          );
          // An intake that is shutting down answers an event stream and ends it at once: BRAIN_URL is
          // right, so a refused reconnect after it is that intake going away, which waiting mends.
          everConnected = true;
        } catch (error) {
          // Never the intake's answer, at the first connection or later: no waiting mends a wrong BRAIN_URL.
          if (error instanceof NotAnEventStreamError) throw api.notTheIntake(`${error.contentType || 'no content type'} where the live stream should be`);
          if (!(error instanceof StreamRefusedError)) {
            // Never connected: a wrong BRAIN_URL or an intake that is down, which no waiting mends.
            if (!everConnected) throw api.unreachable(error);
            failures += 1;
            if (failures === 1) io.stderr.write(`watch: the stream dropped (${fetchFailureCause(error)}); reconnecting, less often the longer it stays down\n`);
            wait = Math.min(RECONNECT_MS * 2 ** (failures - 1), MAX_RECONNECT_MS);
          } else {
            const refusal = apiError(error.status, error.body, 'GET /api/stream', error.retryAfterMs);
            if (refusal.exitCode !== EXIT.retryLater) throw refusal;
            // Too many live streams, or the key's minute spent: reconnecting sooner than Retry-After
            // is refused again, and spends the budget of everyone using the key.
            io.stderr.write(`watch: ${refusal.message}; reconnecting then\n`);
            wait = Math.max(RECONNECT_MS, error.retryAfterMs ?? 0);
          }
        }
        // Ctrl-C (or --count) ends the wait too: it may be a minute.
        await delay(wait, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    });

  missions
    .command('cancel')
    .description('Cancel a mission that has not finished (needs a submitter or operator key).')
    .argument('<missionId>', 'the mission')
    .option('--reason <text>', 'why; recorded in the MissionCancelled event')
    .action(async (missionId: string, options: { reason?: string }, command: Command) => {
      const mission = await api.post<Mission>(`/api/missions/${pathSegment(missionId)}/cancel`, options.reason ? { reason: options.reason } : {});
      show(command, mission, () => `cancelled ${mission.id} (${mission.title})`);
    });

  const queue = group('queue', 'The ready queue and what is in flight.');
  queue
    .command('stats')
    .description(
      'Ready by priority level, leased, in flight, waiting to start or retry, awaiting review, overdue, dead-lettered, oldest ready age, throughput.',
    )
    .action(async (_options: object, command: Command) => {
      const stats = await api.get<QueueStats>('/api/missions/queue/stats');
      show(command, stats, () =>
        fields([
          ['ready', `${stats.ready} (${PRIORITY_LEVELS.map((level) => `${level} ${stats.readyByPriority[level]}`).join(', ')})`],
          ['oldest ready', age(stats.oldestReadyAgeMs)],
          ['leased', stats.leased],
          ['in flight', stats.inFlight],
          // Accepted missions outside the ready queue: shown nowhere else in this table.
          ['scheduled', stats.scheduled],
          ['retry backoff', stats.backoff],
          [
            'awaiting review',
            stats.awaitingReview > 0 ? `${stats.awaitingReview} (${stats.reviewsOverdue} overdue, oldest ${age(stats.oldestReviewAgeMs)})` : 0,
          ],
          ['past deadline', stats.overdue > 0 ? `${stats.overdue} (${stats.overdueDeadLettered} dead-lettered)` : 0],
          ['dead-lettered', stats.deadLettered],
          ['enqueued / min', stats.enqueuedPerMinute],
          ['dequeued / min', stats.dequeuedPerMinute],
        ]),
      );
    });

  const dlq = group('dlq', 'The dead-letter queue (needs an operator key).');
  dlq
    .command('list')
    .description(
      'Dead-lettered missions, oldest first: reason, attempts, last error. Paged by cursor: a dead letter requeued or cancelled ' +
        'between two pages makes the next page miss none. --offset pages by position, as before: then the next page misses one per dead letter removed since.',
    )
    .option('--limit <n>', 'how many, 1..200', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .option('--offset <n>', 'page by position instead: how many to skip (shifted by dead letters requeued since; not with --cursor)')
    .action(async (options: { limit: string; cursor?: string; offset?: string }, command: Command) => {
      // The API clamps a limit out of 1..200 and takes a negative offset for 0: refused here instead,
      // so that the page shown is the page asked for.
      const limit = pageSizeOption(options.limit);
      const cursor = cursorOption(options.cursor);
      const from = wholeNumberOption('--offset', options.offset, { min: 0 });
      if (cursor !== undefined && from !== undefined) throw new CtlError('--cursor and --offset name two different pages: give one of them', EXIT.usage);
      // The list answers no total: queue stats' count of the dead-lettered is the total the footer
      // shows (--json prints the API's answer as is).
      const [answer, stats] = await Promise.all([
        from === undefined ? api.get<MissionPage<DeadLetter>>('/api/dlq', { limit, cursor }) : api.get<DeadLetter[]>('/api/dlq', { limit, offset: from }),
        api.get<QueueStats>('/api/missions/queue/stats'),
      ]);
      const letters = Array.isArray(answer) ? answer : answer.items;
      show(command, answer, () => {
        const total = stats.deadLettered;
        let footer: string;
        if (Array.isArray(answer)) {
          const start = from ?? 0;
          const shown = letters.length > 0 ? `${start + 1}–${start + letters.length}` : '0';
          footer = `${shown} of ${total} dead letter(s)${start + letters.length < total ? `\nmore: --offset ${start + letters.length}` : ''}`;
        } else {
          // A cursor's page has no position to show: entries before it may have left since.
          const shown = cursor === undefined && letters.length > 0 ? `1–${letters.length}` : `${letters.length}`;
          footer = `${shown} of ${total} dead letter(s)${answer.nextCursor ? `\nmore: --cursor ${answer.nextCursor}` : ''}`;
        }
        return `${table(
          ['mission', 'type', 'attempts', 'dead-lettered', 'reason', 'last error', 'title'],
          letters.map((letter) => [
            letter.missionId,
            letter.type,
            letter.attempts,
            localTime(letter.deadLetteredAt),
            letter.reason,
            letter.lastError,
            letter.title,
          ]),
        )}\n${footer}`;
      });
    });
  dlq
    .command('requeue')
    .description('Requeue one dead-lettered mission, or with --all every one that matches the filters.')
    .argument('[missionId]', 'the mission (leave out with --all)')
    .option('--all', 'requeue every dead letter that matches --type, --error-contains and --before', false)
    .addOption(new Option('--type <type>', 'with --all: only this mission type').choices(MISSION_TYPES))
    .option('--error-contains <text>', 'with --all: only those whose last error contains this')
    .option('--before <time>', 'with --all: only those dead-lettered before this time (ISO 8601)')
    .option('--limit <n>', 'with --all: at most this many (1..1000, default 100)')
    .option('--reason <text>', 'with --all: why, recorded in each MissionRequeued event')
    .action(async (missionId: string | undefined, options: Record<string, string | boolean | undefined>, command: Command) => {
      if (Boolean(missionId) === Boolean(options.all)) throw new CtlError('give a mission id or --all, not both and not neither', EXIT.usage);
      if (missionId) {
        // The single requeue takes no body (POST /api/dlq/:id/requeue refuses one): a filter or reason given with an id would be ignored.
        const bulkOnly = command.options.filter((option) => option.long !== '--all' && options[option.attributeName()] !== undefined);
        if (bulkOnly.length > 0) throw new CtlError(`${bulkOnly.map((option) => option.long).join(', ')}: only with --all, not with a mission id`, EXIT.usage);
        const mission = await api.post<Mission>(`/api/dlq/${pathSegment(missionId)}/requeue`);
        show(command, mission, () => `requeued ${mission.id} (${mission.title})`);
        return;
      }
      const filter = {
        // The API refuses a bulk requeue that does not say what it takes; --all is that word.
        all: true,
        type: options.type,
        errorContains: options.errorContains,
        deadLetteredBefore: timeOption('--before', typeof options.before === 'string' ? options.before : undefined),
        reason: options.reason,
        // Checked here: NaN would go out as JSON null, which the API refuses with a less helpful message.
        limit: wholeNumberOption('--limit', typeof options.limit === 'string' ? options.limit : undefined, { max: MAX_REQUEUE_LIMIT }),
      };
      const result = await api.post<{ requeued: string[]; skipped?: { missionId: string; reason: string }[] }>(
        '/api/dlq/requeue',
        Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)),
      );
      // An intake before `skipped` answers without it.
      const skipped = result.skipped ?? [];
      show(command, result, () =>
        [
          `requeued ${result.requeued.length} mission(s)`,
          ...result.requeued,
          ...(skipped.length > 0
            ? [`skipped ${skipped.length}, no longer dead-lettered:`, ...skipped.map(({ missionId, reason }) => `${missionId}: ${reason}`)]
            : []),
        ].join('\n'),
      );
    });

  const agents = group('agents', 'Agents: load, credits, quality; pause and resume (pause and resume need an operator key).');
  agents
    .command('list')
    .description('Every agent with load against capacity, credits, quality and status.')
    .action(async (_options: object, command: Command) => {
      const list = await api.get<AgentView[]>('/api/agents');
      show(command, list, () =>
        table(
          ['id', 'name', 'status', 'load', 'credits', 'quality', 'skills'],
          list.map((agent) => [
            agent.id,
            agent.name,
            agent.status,
            `${agent.load}/${agent.capacity}`,
            agent.credits,
            agent.quality === null ? null : agent.quality.toFixed(2),
            agent.skills.join(', '),
          ]),
        ),
      );
    });
  for (const [name, status, verb] of [
    ['pause', 'paused', 'Pause an agent: it gets no new missions; those it runs finish.'],
    ['resume', 'online', 'Resume a paused agent: it gets missions again.'],
  ] as const) {
    agents
      .command(name)
      .description(verb)
      .argument('<agentId>', 'the agent')
      .option('--reason <text>', 'why; recorded in the AgentStatusChanged event')
      .action(async (agentId: string, options: { reason?: string }, command: Command) => {
        const agent = await api.patch<AgentView>(`/api/agents/${pathSegment(agentId)}`, {
          status,
          ...(options.reason ? { reason: options.reason } : {}),
        });
        show(command, agent, () => `${agent.id} is ${agent.status}`);
      });
  }

  group('retention', 'Erase the data subjects whose missions are all finished and past RETENTION_DAYS (needs an operator key).')
    .option('--dry-run', 'only list what a round would erase now, and what it keeps and why; change nothing', false)
    .option('--at <time>', 'with --dry-run: plan for this time instead of now (ISO 8601), e.g. a month ahead')
    .addHelpText(
      'after',
      '\nExamples:\n  brain-ctl retention --dry-run\n  brain-ctl retention --dry-run --at 2027-01-01T00:00:00Z\n' +
        '  brain-ctl retention            # erase them now, as the intake does every RETENTION_CHECK_MS',
    )
    .action(async (options: { dryRun: boolean; at?: string }, command: Command) => {
      if (options.at && !options.dryRun) throw new CtlError('--at plans a dry run; a round erases only what is due now', EXIT.usage);
      const result = options.dryRun
        ? await api.get<RetentionPlan>('/api/retention', { at: timeOption('--at', options.at) })
        : await api.post<RetentionRun>('/api/retention/run');
      show(command, result, () => retentionText(result, options.dryRun));
    });

  const reviews = group('reviews', 'Missions waiting for human review (approve and reject need a reviewer or operator key).');
  reviews
    .command('list')
    .description('The review inbox, oldest first.')
    .addOption(new Option('--type <type>', 'only this type').choices(MISSION_TYPES))
    .addOption(new Option('--priority <level>', 'only this priority level').choices(PRIORITY_LEVELS))
    .option('--limit <n>', 'page size, 1..200', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action(async (options: { type?: string; priority?: string; limit: string; cursor?: string }, command: Command) => {
      const page = await api.get<MissionPage<Mission>>('/api/reviews', {
        type: options.type,
        priority: options.priority,
        limit: pageSizeOption(options.limit),
        cursor: cursorOption(options.cursor),
      });
      show(command, page, () => {
        // The inbox answers no total: the count is all that wait (for these filters) only when
        // this page is the whole inbox.
        const whole = !options.cursor && !page.nextCursor;
        const count = whole ? `${page.items.length} waiting for review` : `${page.items.length} on this page`;
        const next = page.nextCursor ? `\nmore: --cursor ${page.nextCursor}` : '';
        return `${table(MISSION_HEAD, page.items.map(missionRow))}\n${count}${next}`;
      });
    });
  /** The attempt whose result is under review now; a mission not waiting for review is refused as the API would (409, exit 1). */
  const attemptUnderReview = async (path: string): Promise<number> => {
    const mission = await api.get<Mission>(path);
    if (mission.status !== 'awaiting_review')
      throw new CtlError(`mission ${mission.id} is ${mission.status}, not awaiting_review: nothing to decide`, EXIT.refused);
    return mission.attempts;
  };
  /**
   * Approves or rejects the result of one attempt: `--attempt` names the one the operator looked at;
   * without it, the one under review now, read first and printed, so the operator learns which
   * result was decided. Either way the intake refuses (409) once a newer result is under review.
   */
  const decideReview = async (missionId: string, verb: 'approve' | 'reject', attemptOption: string | undefined, body: object): Promise<ReviewDecision> => {
    const path = `/api/missions/${pathSegment(missionId)}`;
    const attempt = wholeNumberOption('--attempt', attemptOption) ?? (await attemptUnderReview(path));
    try {
      return { mission: await api.post<Mission>(`${path}/${verb}`, { ...body, attempt }), attempt };
    } catch (error) {
      if (!(error instanceof CtlError) || error.status !== 409) throw error;
      // A 409 also answers a mission no longer waiting; only a newer attempt under review asks for a fresh look.
      const now = await api.get<Mission>(path);
      if (now.status !== 'awaiting_review' || now.attempts === attempt) throw error;
      // A number above the one under review is a typo, not a result the operator missed.
      const which =
        now.attempts > attempt ? `a newer result is waiting: attempt ${now.attempts}, not ${attempt}` : `attempt ${attempt} has no result under review`;
      throw new CtlError(
        `${error.message}\n${which}; nothing was decided. Read attempt ${now.attempts}'s (missions show ${now.id}), ` +
          `then decide with --attempt ${now.attempts}`,
        EXIT.refused,
      );
    }
  };
  const attemptHelp = 'the attempt whose result you decide (the attempts `missions show` printed); without it, the one under review now';
  reviews
    .command('approve')
    .description("Approve a mission's output; with --output-file, approve an edited output instead.")
    .argument('<missionId>', 'the mission')
    .option('--attempt <n>', attemptHelp)
    .option('--note <text>', 'a note kept with the approval')
    .option('--output-file <file>', 'a JSON file with the edited output')
    .action(async (missionId: string, options: { attempt?: string; note?: string; outputFile?: string }, command: Command) => {
      const output = options.outputFile ? readJsonFile(options.outputFile) : undefined;
      const { mission, attempt } = await decideReview(missionId, 'approve', options.attempt, {
        ...(output !== undefined ? { output } : {}),
        ...(options.note ? { note: options.note } : {}),
      });
      show(command, mission, () => `approved attempt ${attempt} of ${mission.id} (${mission.status})`);
    });
  reviews
    .command('reject')
    .description('Reject a mission with feedback: it is queued again and the next attempt gets the feedback.')
    .argument('<missionId>', 'the mission')
    .requiredOption('--feedback <text>', 'what the next attempt must do better')
    .option('--attempt <n>', attemptHelp)
    .action(async (missionId: string, options: { feedback: string; attempt?: string }, command: Command) => {
      const { mission, attempt } = await decideReview(missionId, 'reject', options.attempt, { feedback: options.feedback });
      show(command, mission, () => `rejected attempt ${attempt} of ${mission.id} (${mission.status})`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CtlError) return report(error);
    throw error;
  }
}

/** A review on one line: whose result, the rule that held it, and the decision once there is one. */
function reviewText(review: MissionReview): string {
  const decided = review.decision ? `${review.decision} by ${review.reviewedBy ?? '?'} at ${localTime(review.reviewedAt)}` : 'waiting';
  const overdue = review.overdueAt ? `, overdue since ${localTime(review.overdueAt)}` : '';
  return `attempt ${review.attempt}, rule ${review.rule}, asked ${localTime(review.requestedAt)}${overdue}: ${decided}`;
}

/** A retention plan or run for a person: the subjects erased (or that would be), then those kept and why. */
function retentionText(result: RetentionPlan | RetentionRun, dryRun: boolean): string {
  const days = Object.entries(result.days)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  const failed = 'failed' in result ? result.failed : [];
  const lines = [
    `retention at ${localTime(result.at)} (days kept: ${days})`,
    // A row per mission, its subject and reason on the subject's first: what the erasure would
    // touch, as the API's answer lists it.
    table(
      ['subject', 'mission', 'type', 'status', 'finished', 'reason'],
      result.erase.flatMap((candidate) =>
        candidate.missions.map((mission, index) => [
          index === 0 ? candidate.subjectId : '',
          mission.missionId,
          mission.type,
          mission.status,
          localTime(mission.finishedAt),
          index === 0 ? candidate.reason : '',
        ]),
      ),
    ),
    `${result.erase.length} subject(s) ${dryRun ? 'would be erased (dry run: nothing changed)' : 'erased'}`,
  ];
  if (result.kept.length > 0)
    lines.push(
      table(
        ['kept', 'why'],
        result.kept.map((kept) => [kept.subjectId, kept.reason]),
      ),
    );
  for (const failure of failed) lines.push(`failed: ${failure.subjectId}: ${failure.error}`);
  // Older intakes answer without it.
  for (const mission of result.passedOver ?? []) lines.push(`passed over: ${mission.reason} (its guests cannot be told; run replay verify)`);
  return lines.join('\n');
}

/**
 * A whole-number option in `min..max` (at least 1 unless said), or undefined when not given; a usage
 * error otherwise. Checked here rather than left to the API, whose 400 would be exit 1 ("refused"),
 * not 2 (bad arguments), and which clamps some values instead of refusing them.
 */
function wholeNumberOption(name: string, text: string | undefined, { min = 1, max }: { min?: number; max?: number } = {}): number | undefined {
  if (text === undefined) return undefined;
  // Digits only: Number() would also take 0x10, 1e2 and blanks, which the API refuses as JSON.
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new CtlError(`${name} must be a whole number ${range}, got ${text}`, EXIT.usage);
  }
  return value;
}

/**
 * A comma-list option's parser: each item (trimmed, as the intake reads it) one of `values`, else a
 * usage error before anything is asked; duplicates dropped, so the list stays within the intake's
 * maximum of one entry per value.
 */
function commaListOf(what: string, values: readonly string[]): (text: string) => string {
  return (text) => {
    const items = text.split(',').map((item) => item.trim());
    const unknown = items.filter((item) => !values.includes(item));
    if (unknown.length > 0)
      throw new InvalidArgumentError(`unknown ${what}: ${unknown.map((item) => JSON.stringify(item)).join(', ')} (one of ${values.join(', ')})`);
    return [...new Set(items)].join(',');
  };
}

/** `--limit` of a paged list (the intake's page size). */
function pageSizeOption(text: string | undefined): number | undefined {
  return wholeNumberOption('--limit', text, { max: MAX_PAGE_SIZE });
}

/** A time option as the API reads it (strict ISO 8601), or undefined when not given; a usage error otherwise. */
function timeOption(name: string, text: string | undefined): string | undefined {
  if (text === undefined || isIsoTime(text)) return text;
  throw new CtlError(`${name} must be an ISO 8601 time such as 2026-05-01T00:00:00Z, got ${text}`, EXIT.usage);
}

/**
 * `--cursor` as the API reads it (parsePageCursor: what a previous page printed after `more:`; a
 * client key's is sealed, so only its shape shows), or undefined when not given; a usage error
 * otherwise, before any request, as for the other options. Whether it names this deployment's
 * number of log partitions only the API knows: a well-formed cursor of another deployment is
 * still its 400 (exit 1), as an unknown id is.
 */
function cursorOption(text: string | undefined): string | undefined {
  if (text === undefined || parsePageCursor(text) !== null || isSealedPageCursor(text)) return text;
  const shown = text.length > CURSOR_SHOWN ? `${text.slice(0, CURSOR_SHOWN)}…` : text;
  throw new CtlError(`--cursor must be the cursor a previous page printed (more: --cursor …), got ${shown}`, EXIT.usage);
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    // On one line: the parser's message quotes the text, line feeds and all, which the report would keep.
    throw new CtlError(forTerminal(`cannot read ${file} as JSON: ${error instanceof Error ? error.message : String(error)}`), EXIT.usage);
  }
}
