import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MissionCreateDto } from '@app/mission';

/** Finds a file of the repository by walking up from here: works from scripts/bench (ts-jest) and dist/scripts/bench. */
export function repoPath(relative: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${relative} not found above ${__dirname}`);
  }
}

type Fixture = MissionCreateDto & { payload: Record<string, unknown> };

/** How far ahead of the run the earliest fixture deadline is moved. */
const FIRST_DEADLINE_AHEAD_MS = 3_600_000;

/**
 * Valid mission bodies for load: the Odoo-like fixtures in turn (the two meant to be dead-lettered
 * left out, so every mission should succeed at its first attempt), each with an ERP source record
 * of its own — a repeated source would be deduplicated into the first mission instead of created.
 * Their deadlines are moved together, so the earliest is an hour after the run starts: as written
 * they are dates of the fixtures' week, past ever since, and every mission was late from its
 * create on, which the bench would measure as one more event per mission (MissionOverdue).
 */
export class MissionFactory {
  private readonly fixtures: Fixture[];
  private next = 0;

  constructor(fixturesFile = repoPath('fixtures/odoo_missions_mock.json'), now = Date.now()) {
    const all = JSON.parse(readFileSync(fixturesFile, 'utf8')) as Fixture[];
    this.fixtures = aheadOf(
      now,
      all.filter((fixture) => fixture.payload?.expectedOutcome !== 'dead_lettered'),
    );
    if (this.fixtures.length === 0) throw new Error(`${fixturesFile} holds no missions that are meant to succeed`);
  }

  get templates(): readonly MissionCreateDto[] {
    return this.fixtures;
  }

  mission(): MissionCreateDto {
    const index = this.next++;
    const fixture = this.fixtures[index % this.fixtures.length];
    const source = fixture.source
      ? { system: fixture.source.system, model: fixture.source.model, recordId: 1_000_000 + index }
      : { system: 'bench', model: 'bench.mission', recordId: 1_000_000 + index };
    return { ...fixture, source };
  }

  missions(count: number): MissionCreateDto[] {
    return Array.from({ length: count }, () => this.mission());
  }
}

/** The fixtures with their deadlines moved by one offset: the earliest FIRST_DEADLINE_AHEAD_MS after `now`. */
function aheadOf(now: number, fixtures: Fixture[]): Fixture[] {
  const deadlines = fixtures.flatMap((fixture) => (fixture.deadline ? [Date.parse(fixture.deadline)] : []));
  if (deadlines.length === 0) return fixtures;
  const offset = now + FIRST_DEADLINE_AHEAD_MS - Math.min(...deadlines);
  return fixtures.map((fixture) => (fixture.deadline ? { ...fixture, deadline: new Date(Date.parse(fixture.deadline) + offset).toISOString() } : fixture));
}
