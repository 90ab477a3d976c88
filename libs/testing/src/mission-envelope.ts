/**
 * Test helpers for the mission domain specs: give decided events an envelope the way the event
 * store would, and keep a small in-memory history folded through `evolve`.
 *
 * Only specs import this (through @app/testing, which the build leaves out).
 */
import {
  CURRENT_SCHEMA_VERSION,
  Decision,
  Evaluation,
  evolve,
  Mission,
  MissionEvent,
  MissionResult,
  MissionType,
  NewMissionEvent,
  PriorityLevel,
} from '@app/mission';

export interface EnvelopeOptions {
  missionId?: string;
  correlationId?: string;
  actor?: string;
  /** Version of the first event; later events count up from it. Default 1. */
  firstVersion?: number;
  /** `at` of version 1; every later version is `stepMs` later. */
  start?: Date;
  stepMs?: number;
  /** Causation of the first event; each later event is caused by the one before it. */
  causationId?: string;
}

export const TEST_MISSION_ID = 'mission-1';
export const TEST_CORRELATION_ID = 'corr-1';
export const TEST_ACTOR = 'test';
export const TEST_START = new Date('2025-06-01T08:00:00.000Z');
export const TEST_STEP_MS = 60_000;

/** The `at` the helper gives the event with this version (with default start and step). */
export function atOfVersion(version: number, start: Date = TEST_START, stepMs: number = TEST_STEP_MS): string {
  return new Date(start.getTime() + (version - 1) * stepMs).toISOString();
}

/** Wraps events in envelopes: eventId, version increasing by one, at, actor, correlation, causation, schemaVersion. */
export function toEnvelopes(events: readonly NewMissionEvent[], options: EnvelopeOptions = {}): MissionEvent[] {
  const missionId = options.missionId ?? TEST_MISSION_ID;
  const firstVersion = options.firstVersion ?? 1;
  const start = options.start ?? TEST_START;
  const stepMs = options.stepMs ?? TEST_STEP_MS;
  let causationId = options.causationId ?? `command-${missionId}-${firstVersion}`;
  return events.map((event, i) => {
    const version = firstVersion + i;
    const eventId = `${missionId}-event-${version}`;
    const envelope: MissionEvent = {
      eventId,
      missionId,
      version,
      at: atOfVersion(version, start, stepMs),
      actor: options.actor ?? TEST_ACTOR,
      correlationId: options.correlationId ?? TEST_CORRELATION_ID,
      causationId,
      schemaVersion: CURRENT_SCHEMA_VERSION,
      ...event,
    };
    causationId = eventId;
    return envelope;
  });
}

/** An in-memory event log of one mission, folded event by event. */
export class MissionHistory {
  private readonly log: MissionEvent[] = [];
  private current: Mission | null = null;

  constructor(private readonly options: Omit<EnvelopeOptions, 'firstVersion' | 'causationId'> = {}) {}

  get events(): readonly MissionEvent[] {
    return this.log;
  }

  get state(): Mission | null {
    return this.current;
  }

  /** The mission; throws if nothing has been created yet. */
  get mission(): Mission {
    if (!this.current) throw new Error('no mission yet: append MissionCreated first');
    return this.current;
  }

  /** Envelopes the events with the next versions and folds them. Throws (and keeps nothing) if evolve throws. */
  append(events: readonly NewMissionEvent[]): Mission {
    const envelopes = toEnvelopes(events, {
      ...this.options,
      firstVersion: this.log.length + 1,
      causationId: this.log.length ? this.log[this.log.length - 1].eventId : undefined,
    });
    let state = this.current;
    for (const envelope of envelopes) state = evolve(state, envelope);
    if (!state) throw new Error('nothing appended');
    this.log.push(...envelopes);
    this.current = state;
    return state;
  }

  /** Appends what a decision asks for; throws if the decision is a skip. */
  apply(decision: Decision): Mission {
    if (decision.kind !== 'append') throw new Error(`expected events, got skip: ${decision.reason}`);
    return this.append(decision.events);
  }
}

export interface CreateInput {
  type: MissionType;
  title: string;
  description: string;
  priority: PriorityLevel;
  requiredSkills?: string[];
  payload: Record<string, unknown>;
  deadline?: string;
  notBefore?: string;
  source?: { system: string; model: string; recordId: number };
  subjects?: string[];
}

export function aCreateInput(overrides: Partial<CreateInput> = {}): CreateInput {
  return {
    type: 'guest_support',
    title: 'Late check-out request',
    description: 'Guest in room 204 asks for a 14:00 check-out.',
    priority: 'normal',
    payload: { room: '204' },
    ...overrides,
  };
}

export function aResult(overrides: Partial<MissionResult> = {}): MissionResult {
  return {
    output: { reply: 'Late check-out until 14:00 is confirmed.' },
    model: 'test-model',
    latencyMs: 1200,
    usage: { promptTokens: 300, completionTokens: 80 },
    ...overrides,
  };
}

export function anEvaluation(attempt: number, passed: boolean, overrides: Partial<Evaluation> = {}): Evaluation {
  return {
    attempt,
    score: passed ? 0.9 : 0.4,
    passed,
    criteria: [
      { criterion: 'helpfulness', weight: 0.6, score: passed ? 0.9 : 0.4 },
      { criterion: 'tone', weight: 0.4, score: passed ? 0.9 : 0.4 },
    ],
    reason: passed ? 'clear and polite' : `attempt ${attempt}: the reply does not confirm a time`,
    rubricVersion: 'rubric-v1',
    judge: 'judge-model',
    ...overrides,
  };
}
