import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { from, mergeMap, Observable } from 'rxjs';
import { MissionPersonalData } from '@app/guest-data';
import { isPlainObject, Mission, MISSION_EVENT_TYPES, MISSION_TYPES, MissionEvent } from '@app/mission';

/** How deep a response is searched for missions and events: a page's items, a chain's missions. */
const MAX_DEPTH = 3;
const EVENT_TYPES: ReadonlySet<unknown> = new Set(MISSION_EVENT_TYPES);
const TYPES: ReadonlySet<unknown> = new Set(MISSION_TYPES);

/**
 * Every API response shows personal fields in plain (or `[erased]`): each mission and each event
 * in it is opened on its way out. One place for all routes, so no route can forget to, and the
 * roles that may read a route are the ones that see the plaintext (README, "Guest data").
 */
@Injectable()
export class PersonalDataInterceptor implements NestInterceptor {
  constructor(private readonly personal: MissionPersonalData) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(mergeMap((body: unknown) => from(this.open(body, 0))));
  }

  private async open(value: unknown, depth: number): Promise<unknown> {
    if (isMission(value)) return this.personal.openMission(value);
    if (isEvent(value)) return this.personal.openEvent(value);
    if (depth >= MAX_DEPTH) return value;
    if (Array.isArray(value)) return Promise.all(value.map((item) => this.open(item, depth + 1)));
    // Only JSON-like objects: a Buffer or a stream a route returns is not searched byte by byte.
    if (!isPlainObject(value) || ![Object.prototype, null].includes(Object.getPrototypeOf(value))) return value;
    const entries = await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await this.open(item, depth + 1)] as const));
    return entries.every(([key, item]) => item === value[key]) ? value : Object.fromEntries(entries);
  }
}

function isMission(value: unknown): value is Mission {
  return isPlainObject(value) && typeof value.id === 'string' && TYPES.has(value.type) && isPlainObject(value.payload) && typeof value.version === 'number';
}

function isEvent(value: unknown): value is MissionEvent {
  return isPlainObject(value) && typeof value.eventId === 'string' && typeof value.missionId === 'string' && EVENT_TYPES.has(value.type);
}
