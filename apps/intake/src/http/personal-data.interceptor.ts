import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { from, mergeMap, Observable } from 'rxjs';
import { MissionPersonalData } from '@app/guest-data';
import { isPlainObject, Mission, MISSION_EVENT_TYPES, MISSION_TYPES, MissionEvent } from '@app/mission';
import { apiClientOf, readsPersonalData } from '../auth';
import { redactedEvent, redactedMission } from './redacted-personal-data';

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

  constructor(personal: MissionPersonalData) {
    this.opened = { mission: (mission) => personal.openMission(mission), events: (events) => personal.openEvents(events) };
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
