import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { MissionCreateDto, missionIdFor, SUBMISSION_STREAM_SCOPE } from '@app/mission';
import { MissionClient } from '@app/mission-client';
import { REPO_ROOT } from './build';
import { sleep } from './ports';

export type ExpectedEnd = 'succeeded' | 'dead_lettered';

export interface SubmittedMission {
  id: string;
  index: number;
  type: MissionCreateDto['type'];
  /** What the fixture is meant to end as when nothing goes wrong. */
  expected: ExpectedEnd;
  /** The XADD of its `mission.submit` returned an id (not an error). */
  acked: boolean;
  batch: number;
}

export interface WorkloadOptions {
  total: number;
  /** Missions per createMany call. Default 100. */
  batchSize?: number;
  /** Pause between batches, to spread the work over time. Default 0. */
  intervalMs?: number;
  /** Distinguishes the source record ids and idempotency keys of one workload from another's. */
  tag?: string;
  /** How often a batch whose createMany failed is submitted again (same idempotency keys). Default 20. */
  retries?: number;
}

type Fixture = MissionCreateDto & { payload: Record<string, unknown> };

let fixtureCache: Fixture[] | undefined;

/** The Odoo-like fixtures (two of them are meant to be dead-lettered: conflicting rate floors). */
export function fixtures(): Fixture[] {
  fixtureCache ??= JSON.parse(readFileSync(path.join(REPO_ROOT, 'fixtures', 'odoo_missions_mock.json'), 'utf8')) as Fixture[];
  return fixtureCache;
}

/** Fixture `index % <fixture count>`, with its own ERP record id so that source deduplication does not merge copies. */
export function missionFor(index: number, tag: string): { mission: MissionCreateDto; expected: ExpectedEnd } {
  const all = fixtures();
  const fixture = all[index % all.length];
  const mission: MissionCreateDto = JSON.parse(JSON.stringify(fixture)) as MissionCreateDto;
  mission.source = { system: `faults-${tag}`, model: fixture.source?.model ?? 'helpdesk.ticket', recordId: 1_000_000 + index };
  const expected: ExpectedEnd = fixture.payload.expectedOutcome === 'dead_lettered' ? 'dead_lettered' : 'succeeded';
  return { mission, expected };
}

/**
 * Submits missions over the intake's command stream with MissionClient.createMany, in batches.
 * The Redis handed to the client is wrapped so that the reply of every XADD is seen: a mission
 * counts as acknowledged only when its XADD returned an entry id.
 */
export class Workload {
  readonly submitted: SubmittedMission[] = [];
  /** createMany calls that threw (each is retried with the same idempotency keys). */
  readonly errors: string[] = [];
  /** Ids that createMany returned although their XADD failed (the client did not say so). */
  readonly silentlyFailed: string[] = [];
  /** The errors behind `silentlyFailed`, counted by message. */
  readonly hiddenErrors: Record<string, number> = {};
  startedAt = 0;
  finishedAt = 0;
  private readonly client: MissionClient;
  private lastReplies: [Error | null, unknown][] | null = null;
  private stopRequested = false;
  private running: Promise<void> | null = null;

  constructor(
    redis: Redis,
    keyPrefix: string,
    private readonly options: WorkloadOptions,
  ) {
    this.client = new MissionClient(this.tracking(redis), keyPrefix);
  }

  /** Starts submitting in the background; `done` settles when every batch went out. */
  start(): this {
    this.running ??= this.submitAll();
    return this;
  }

  get done(): Promise<void> {
    return this.start().running as Promise<void>;
  }

  /** Ends the submission loop after the current batch. */
  stop(): Promise<void> {
    this.stopRequested = true;
    return this.running ?? Promise.resolve();
  }

  get ackedIds(): string[] {
    return this.submitted.filter((m) => m.acked).map((m) => m.id);
  }

  get ackedCount(): number {
    return this.submitted.reduce((n, m) => n + (m.acked ? 1 : 0), 0);
  }

  expectedOf(): Map<string, ExpectedEnd> {
    return new Map(this.submitted.map((m) => [m.id, m.expected]));
  }

  private async submitAll(): Promise<void> {
    const batchSize = this.options.batchSize ?? 100;
    const tag = this.options.tag ?? 'w';
    this.startedAt = Date.now();
    let batch = 0;
    for (let from = 0; from < this.options.total && !this.stopRequested; from += batchSize, batch++) {
      const size = Math.min(batchSize, this.options.total - from);
      const built = Array.from({ length: size }, (_, i) => missionFor(from + i, tag));
      // Idempotency keys make the mission ids deterministic, so a failed batch can be sent again safely.
      const keys = built.map((_, i) => ({ idempotencyKey: `faults-${tag}-${from + i}` }));
      const acked = new Array<boolean>(size).fill(false);
      let ids: string[] | null = null;
      for (let attempt = 0; ids === null && attempt <= (this.options.retries ?? 20); attempt++) {
        this.lastReplies = null;
        try {
          ids = await this.client.createMany(
            built.map((b) => b.mission),
            keys,
          );
        } catch (error) {
          this.errors.push(`batch ${batch} attempt ${attempt}: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
        }
        (this.lastReplies ?? []).forEach((reply, i) => {
          if (reply[0] === null && typeof reply[1] === 'string') acked[i] = true;
        });
        if (ids === null) await sleep(500);
      }
      const replies = this.lastReplies as [Error | null, unknown][] | null;
      built.forEach((b, i) => {
        const id = ids?.[i] ?? missionIdFor(SUBMISSION_STREAM_SCOPE, b.mission, keys[i].idempotencyKey);
        if (ids && !acked[i]) {
          // createMany returned this id although its XADD failed: the caller was told a lie.
          this.silentlyFailed.push(id);
          const reply = replies?.[i];
          const why = reply?.[0]?.message ?? (reply ? `unexpected reply ${String(reply[1])}` : 'no reply');
          this.hiddenErrors[why] = (this.hiddenErrors[why] ?? 0) + 1;
        }
        this.submitted.push({ id, index: from + i, type: b.mission.type, expected: b.expected, acked: acked[i], batch });
      });
      if (this.options.intervalMs) await sleep(this.options.intervalMs);
    }
    this.finishedAt = Date.now();
  }

  /** A view of `redis` whose pipelines report their replies here. */
  private tracking(redis: Redis): Redis {
    return new Proxy(redis, {
      get: (target, property, receiver) => {
        if (property !== 'pipeline') return Reflect.get(target, property, receiver) as unknown;
        return (...args: Parameters<Redis['pipeline']>) => {
          const pipeline = target.pipeline(...args);
          const exec = pipeline.exec.bind(pipeline);
          pipeline.exec = (async () => {
            const replies = await exec();
            this.lastReplies = replies as [Error | null, unknown][];
            return replies;
          }) as typeof pipeline.exec;
          return pipeline;
        };
      },
    });
  }
}
