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

/**
 * Valid mission bodies for load: the Odoo-like fixtures in turn (the two meant to be dead-lettered
 * left out, so every mission should succeed at its first attempt), each with an ERP source record
 * of its own — a repeated source would be deduplicated into the first mission instead of created.
 */
export class MissionFactory {
  private readonly fixtures: Fixture[];
  private next = 0;

  constructor(fixturesFile = repoPath('fixtures/odoo_missions_mock.json')) {
    const all = JSON.parse(readFileSync(fixturesFile, 'utf8')) as Fixture[];
    this.fixtures = all.filter((fixture) => fixture.payload?.expectedOutcome !== 'dead_lettered');
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
