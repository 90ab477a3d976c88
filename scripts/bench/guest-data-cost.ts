import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import type Redis from 'ioredis';
import { Environment } from '@app/config';
import { createGuestDataCipher, MissionPersonalData, SubjectKeyCache } from '@app/guest-data';
import { CURRENT_SCHEMA_VERSION, decideCreate, evolve, Mission, MissionCreateDto, MissionEvent, PERSONAL_FIELDS, resolveSubjects } from '@app/mission';
import { deleteKeysByPrefix } from '@app/redis';
import type { MissionFactory } from './missions';
import { throwIfAborted } from './stats';
import type { BenchUi } from './ui';

/** What sealing and opening cost per mission, by the service that does it, in CPU ms. */
export interface GuestDataCost {
  missions: number;
  /** Missions of the sample that name a data subject (the rest cost nothing here). */
  withSubjects: number;
  msPerMission: { intake: number; executor: number; evaluator: number; total: number };
}

/** What a completed attempt records besides the output (the mock's). */
const RESULT = { model: 'mock', latencyMs: 0, usage: { promptTokens: 0, completionTokens: 0 } };

/** Missions made and run through the three steps at a time. */
const CHUNK = 2_000;

/** Missions worked on at once, as a service's stream batch has them in flight: Redis commands go out auto-pipelined. */
const IN_FLIGHT = 50;

/** An agent's reply of a usual length, for the output fields a type declares personal. */
const AGENT_OUTPUT = {
  reply:
    'Guten Tag, vielen Dank für Ihre Nachricht. Gerne verlängern wir Ihren Check-out am Sonntag bis 14:00 Uhr; ' +
    'die Rezeption und das Housekeeping sind informiert. Wir wünschen Ihnen einen angenehmen Aufenthalt!',
  actions: ['Late check-out 14:00 im Buchungssystem vermerken', 'Housekeeping über die spätere Zimmerfreigabe informieren'],
};

/**
 * The direct CPU of guest data per mission of the fixtures, in this process against the real
 * Redis: the intake's sealCreate (the subjects' keys made), an executor's attempt (the key read,
 * the mission opened for the prompt, the output sealed), the evaluator's openMission (the key read
 * or cached, input and output opened), each with a cipher of its own as the services have (and
 * one key cache for the three when `shareKeyCache`, as the services of one process share theirs),
 * under a key prefix of its own that is deleted afterwards. Not in it: the cost of the longer
 * state every hop carries (docs/performance.md § 3.6).
 *
 * `count` is the throughput phase's mission count, and nothing runs first: the figure is compared
 * with the services' CPU per mission of that phase, which they spend from a cold start, their JIT
 * warm-up spread over its missions; this code's warm-up is spread over as many. With 500 missions
 * to warm up and 5,000 measured, the JIT's work was spread over a quarter of the missions and the
 * figure came out half as high again as over 20,000 (docs/performance.md § 3.25).
 */
export async function measureGuestDataCost(
  redis: Redis,
  keyPrefix: string,
  factory: MissionFactory,
  count: number,
  shareKeyCache: boolean,
  ui: BenchUi,
  signal?: AbortSignal,
): Promise<GuestDataCost> {
  const settings = { ...new Environment(), KEY_PREFIX: keyPrefix, DATA_KEY_SECRET: randomBytes(32).toString('base64url') };
  const keyCache = new SubjectKeyCache(settings.DATA_KEY_CACHE_TTL_MS, settings.DATA_KEY_CACHE_SIZE);
  const service = () => new MissionPersonalData(createGuestDataCipher(redis, settings, tmpdir(), shareKeyCache ? () => keyCache : undefined).cipher);
  const [intake, executor, evaluator] = [service(), service(), service()];
  const bar = ui.bar('guest data', count * 3, 'steps');
  let done = 0;
  const timed = async <I, O>(items: readonly I[], work: (item: I, index: number) => Promise<O>): Promise<{ results: O[]; ms: number }> => {
    const results: O[] = [];
    const started = process.cpuUsage();
    for (let start = 0; start < items.length; start += IN_FLIGHT) {
      throwIfAborted(signal);
      results.push(...(await Promise.all(items.slice(start, start + IN_FLIGHT).map((item, offset) => work(item, start + offset)))));
      done += Math.min(IN_FLIGHT, items.length - start);
      bar.update(done);
    }
    const used = process.cpuUsage(started);
    return { results, ms: (used.user + used.system) / 1000 };
  };
  // The three steps over `bodies`; only the services' calls are timed, not the bench's making of the missions.
  const run = async (bodies: readonly MissionCreateDto[], name: string) => {
    const ids = bodies.map((_, index) => `guest-cost-${name}-${index}`);
    const sealed = await timed(bodies, async (body, index) => {
      const subjects = resolveSubjects(body, ids[index]);
      return { ...(await intake.sealCreate(ids[index], subjects, body)), subjects };
    });
    const missions = sealed.results.map((body, index) => created(ids[index], body));
    const outputs = await timed(missions, async (mission) => {
      const attempt = await executor.forAttempt(mission);
      return attempt.sealOutput(PERSONAL_FIELDS[mission.type].output.length > 0 ? AGENT_OUTPUT : {});
    });
    const completed = missions.map((mission, index) => ({ ...mission, result: { ...RESULT, output: outputs.results[index] } }));
    const judged = await timed(completed, (mission) => evaluator.openMission(mission));
    return {
      ms: { intake: sealed.ms, executor: outputs.ms, evaluator: judged.ms },
      withSubjects: missions.filter((mission) => (mission.subjects ?? []).length > 0).length,
    };
  };
  try {
    const ms = { intake: 0, executor: 0, evaluator: 0 };
    let withSubjects = 0;
    // In chunks, so that a large --missions does not hold every mission (and its copies) at once.
    for (let chunk = 0; chunk * CHUNK < count; chunk += 1) {
      const part = await run(factory.missions(Math.min(CHUNK, count - chunk * CHUNK)), String(chunk));
      for (const step of ['intake', 'executor', 'evaluator'] as const) ms[step] += part.ms[step];
      withSubjects += part.withSubjects;
    }
    const per = (total: number) => total / count;
    return {
      missions: count,
      withSubjects,
      msPerMission: { intake: per(ms.intake), executor: per(ms.executor), evaluator: per(ms.evaluator), total: per(ms.intake + ms.executor + ms.evaluator) },
    };
  } finally {
    bar.stop();
    await deleteKeysByPrefix(redis, keyPrefix);
  }
}

/** The mission a sealed create makes, as the store projects it (the envelope's ids are the mission's: nothing reads them). */
function created(id: string, body: MissionCreateDto): Mission {
  const [event] = decideCreate(body);
  const at = new Date().toISOString();
  const envelope = {
    ...event,
    eventId: id,
    missionId: id,
    version: 1,
    at,
    actor: 'bench',
    correlationId: id,
    causationId: id,
    schemaVersion: CURRENT_SCHEMA_VERSION,
  };
  return evolve(null, envelope as MissionEvent);
}
