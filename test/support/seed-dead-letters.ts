import { v7 as uuidv7 } from 'uuid';
import { MissionStore } from '@app/event-store';
import { Decision, decideAssign, decideCreate, decideFailure, decideStart, Mission, MissionEvent } from '@app/mission';
import { effectsOf } from '@app/pipeline';
import { CreateInput } from '@app/testing';

/** Missions written at once: their appends share the connection's pipeline. */
const BATCH = 100;

/**
 * One dead letter per input, written straight into the store by its append script (created,
 * assigned, started, failed for good) rather than run through the services: a thousand take a
 * few seconds, where the pipeline takes minutes. The `i`th is dead-lettered at `from + i` ms, so
 * the dead-letter queue holds them oldest first in the inputs' order. Nothing is enqueued and no
 * agent's slot is taken: no service sees them until one is requeued. Resolves with their ids, in
 * that order.
 */
export async function seedDeadLetters(store: MissionStore, inputs: readonly CreateInput[], from: number): Promise<string[]> {
  const ids = inputs.map(() => uuidv7());
  for (let start = 0; start < inputs.length; start += BATCH) {
    await Promise.all(inputs.slice(start, start + BATCH).map((input, offset) => seedOne(store, ids[start + offset], input, new Date(from + start + offset))));
  }
  return ids;
}

async function seedOne(store: MissionStore, id: string, input: CreateInput, deadLetteredAt: Date): Promise<void> {
  const context = { actor: 'test', now: deadLetteredAt };
  const created = await store.append(id, null, decideCreate(input), context);
  if (!('mission' in created) || !created.mission) throw new Error(`mission ${id} was not created`);
  let mission: Mission = created.mission;
  const steps: ((at: Mission) => Decision)[] = [
    (at) => decideAssign(at, 'agent-test'),
    (at) => decideStart(at, at.attempts),
    (at) => decideFailure(at, at.attempts, 'provider timed out', 1),
  ];
  for (const [index, step] of steps.entries()) {
    // The last step's MissionDeadLettered puts it in the dead-letter queue, at its time, with its
    // reason, as the pipeline's effects do; no other effect is written.
    const effects = (next: Mission, appended: MissionEvent[], previous: Mission | null) =>
      effectsOf(appended, { previous, next, now: deadLetteredAt.getTime(), queueScore: () => 0 }).filter((effect) => effect.kind === 'dead-letter');
    const outcome = await store.transition(mission, step, context, index === steps.length - 1 ? effects : []);
    if (outcome.kind !== 'appended') throw new Error(`mission ${id} did not reach the dead letters: ${outcome.kind}`);
    mission = outcome.mission;
  }
  if (mission.status !== 'dead_lettered') throw new Error(`mission ${id} is ${mission.status}, not dead_lettered`);
}
