/**
 * Whether some agent, by its skill set, has every skill in `required` (in any status: a paused
 * agent comes back). With no agent registered at all (the orchestrator seeds them on its first
 * start) everything is: there is nothing to judge against yet.
 */
export function skillsServable(skillSets: readonly ReadonlySet<string>[], required: readonly string[]): boolean {
  return skillSets.length === 0 || skillSets.some((skills) => required.every((skill) => skills.has(skill)));
}
