import { readFileSync } from 'node:fs';
import { MissionCreateDto } from '@app/mission';
import { MissionFactory, repoPath } from '../../scripts/bench/missions';

describe("the bench's missions", () => {
  it('given the fixtures, whose deadlines are dates long past, then every deadline is moved ahead of the run together, the earliest an hour after it', () => {
    const now = Date.parse('2027-03-01T12:00:00Z');
    const fixtures = JSON.parse(readFileSync(repoPath('fixtures/odoo_missions_mock.json'), 'utf8')) as MissionCreateDto[];

    const factory = new MissionFactory(undefined, now);
    const missions = factory.missions(factory.templates.length);

    // Every mission was late from its create on: one MissionOverdue each, which the bench counted as cost.
    const deadlines = missions.flatMap((mission) => (mission.deadline ? [Date.parse(mission.deadline)] : []));
    expect(deadlines.length).toBeGreaterThan(0);
    expect(Math.min(...deadlines)).toBe(now + 3_600_000);
    // Moved by one offset: their order and spacing are the fixtures'.
    const written = fixtures.filter((f) => f.payload?.expectedOutcome !== 'dead_lettered' && f.deadline).map((f) => Date.parse(f.deadline ?? ''));
    expect(deadlines.map((d) => d - deadlines[0])).toEqual(written.map((d) => d - written[0]));
  });
});
