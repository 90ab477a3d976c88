import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { from, mergeMap, Observable } from 'rxjs';
import { MissionPersonalData } from '@app/guest-data';
import { isPlainObject, Mission, MISSION_EVENT_TYPES, MISSION_TYPES, MissionEvent, UNAVAILABLE_MARKER } from '@app/mission';
import { apiClientOf, readsPersonalData } from '../auth';
import { redactedEvent, redactedMission } from './redacted-personal-data';
import { isUnopenableGuestData, unavailableMission } from './unavailable-guest-data';

/** Missions named in the log when a response meets their altered guest data: each once, this many at most. */
const MAX_LOGGED_UNREADABLE = 1_000;
/** How deep a response is searched for missions and events: a page's items, a chain's missions. */
const MAX_DEPTH = 3;
const EVENT_TYPES: ReadonlySet<unknown> = new Set(MISSION_EVENT_TYPES);
const TYPES: ReadonlySet<unknown> = new Set(MISSION_TYPES);

/** How a response shows missions and events to its caller. */
interface View {
  mission(mission: Mission): Promise<Mission> | Mission;
  /** A list of events (a history) together: opened, each mission's erased subjects are read once. */
  events(events: MissionEvent[]): Promise<MissionEvent[]> | MissionEvent[];
}

const REDACTED: View = { mission: redactedMission, events: (events) => events.map(redactedEvent) };

/**
 * Every API response shows personal fields as its caller's role may see them: in plain (or
 * `[erased]`) for the roles that read guest data, `[redacted]` for a reader (readsPersonalData).
 * Each mission and each event in it is opened or redacted on its way out. One place for all
 * routes, so no route can forget to; a request without a known caller gets the redacted view.
 */
@Injectable()
export class PersonalDataInterceptor implements NestInterceptor {
  private readonly opened: View;

  /** Missions whose guest data a response met altered, each logged once. */
  private readonly unreadable = new Set<string>();

  constructor(
    personal: MissionPersonalData,
    @InjectPinoLogger(PersonalDataInterceptor.name) private readonly logger: PinoLogger,
  ) {
    this.opened = {
      mission: (mission) => personal.openMission(mission).catch((error: unknown) => this.unavailable(mission, error)),
      events: (events) => personal.openEvents(events),
    };
  }

  /**
   * A mission whose stored guest data fails its integrity check, shown with its personal fields
   * UNAVAILABLE_MARKER and why (unavailableMission), in a list as alone: in a list it made the whole
   * page (the review inbox, every missions page holding it) a 500, for every role that reads guest
   * data; alone, the console showed its page as the bare 500, without its staff alert, and a cancel
   * of it answered the 500 after it was recorded. A master key this process lacks is every
   * mission's, and still the whole request's 503 (isUnopenableGuestData).
   */
  private unavailable(mission: Mission, error: unknown): Mission {
    if (!isUnopenableGuestData(error)) throw error;
    if (!this.unreadable.has(mission.id) && this.unreadable.size < MAX_LOGGED_UNREADABLE) {
      this.unreadable.add(mission.id);
      this.logger.error(
        `a response met mission ${mission.id}, whose guest data cannot be opened (${error.code}): ${error.message}; it is shown as ${UNAVAILABLE_MARKER}`,
      );
    }
    return unavailableMission(mission, error);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const client = context.getType() === 'http' ? apiClientOf(context.switchToHttp().getRequest<object>()) : undefined;
    const view = client && readsPersonalData(client.role) ? this.opened : REDACTED;
    return next.handle().pipe(mergeMap((body: unknown) => from(shown(view, body, 0))));
  }
}

async function shown(view: View, value: unknown, depth: number): Promise<unknown> {
  if (isMission(value)) return view.mission(value);
  if (isEvent(value)) return (await view.events([value]))[0];
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value) && value.length > 0 && value.every(isEvent)) return view.events(value);
  if (Array.isArray(value)) return Promise.all(value.map((item) => shown(view, item, depth + 1)));
  // Only JSON-like objects: a Buffer or a stream a route returns is not searched byte by byte.
  if (!isPlainObject(value) || ![Object.prototype, null].includes(Object.getPrototypeOf(value))) return value;
  const entries = await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await shown(view, item, depth + 1)] as const));
  return entries.every(([key, item]) => item === value[key]) ? value : Object.fromEntries(entries);
}

function isMission(value: unknown): value is Mission {
  return isPlainObject(value) && typeof value.id === 'string' && TYPES.has(value.type) && isPlainObject(value.payload) && typeof value.version === 'number';
}

function isEvent(value: unknown): value is MissionEvent {
  return isPlainObject(value) && typeof value.eventId === 'string' && typeof value.missionId === 'string' && EVENT_TYPES.has(value.type);
}
