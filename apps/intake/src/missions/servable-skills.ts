import { Injectable } from '@nestjs/common';
import { AgentRegistry, skillsServable } from '@app/agents';
import { MissionCreateDto, requiredSkillsOf } from '@app/mission';

/** How long a view of the agents' skills answers "servable" before it is read again. */
const VIEW_TTL_MS = 1_000;

/**
 * Whether some registered agent (in any status: a paused agent comes back) has every skill a
 * mission needs. A mission no agent could ever take is refused at create instead of waiting in the
 * queue forever, looking busy. "Servable" may come from a view up to a second old, so creates cost
 * no extra round trip; a refusal is always checked against the registry as it is now, so an agent
 * registered a moment ago is seen. With no agent registered at all (the orchestrator seeds them on
 * its first start) nothing is refused: there is nothing to judge against yet.
 */
@Injectable()
export class ServableSkills {
  private view: { readAt: number; skillSets: ReadonlySet<string>[] } | null = null;
  private reading: Promise<ReadonlySet<string>[]> | null = null;

  constructor(private readonly registry: AgentRegistry) {}

  /**
   * Why no agent can serve `mission` (its requiredSkills, else its type's defaults), or null when
   * one can: the one rule for a create and for a schedule's template, whose every firing would be
   * refused.
   */
  async refusal(mission: Pick<MissionCreateDto, 'type' | 'requiredSkills'>, now = Date.now()): Promise<string | null> {
    const required = requiredSkillsOf(mission);
    if (this.view && now - this.view.readAt < VIEW_TTL_MS && skillsServable(this.view.skillSets, required)) return null;
    const skillSets = await this.read(now);
    if (skillsServable(skillSets, required)) return null;
    const known = new Set(skillSets.flatMap((skills) => [...skills]));
    const unknown = required.filter((skill) => !known.has(skill));
    const missing =
      unknown.length > 0
        ? `no registered agent has the skill${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`
        : `no registered agent has all of the skills ${required.join(', ')}`;
    return `${missing}: nobody could take this mission`;
  }

  private read(now: number): Promise<ReadonlySet<string>[]> {
    this.reading ??= this.registry
      .skillSets()
      .then((sets) => {
        const skillSets = sets.map((skills) => new Set(skills));
        this.view = { readAt: now, skillSets };
        return skillSets;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }
}
