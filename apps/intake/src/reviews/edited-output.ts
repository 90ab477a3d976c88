import { BadRequestException } from '@nestjs/common';
import { validateOutput } from '@app/llm';
import { MissionType, MULTI_LINE, textProblem } from '@app/mission';

/**
 * Refuses a reviewer's edit that is not a whole output of the mission type's schema (what the
 * agent had to return, and what a guest or the ERP will get), or whose text breaks the text rule.
 */
export function assertEditedOutput(type: MissionType, output: Record<string, unknown>): void {
  const problems = validateOutput(type, output);
  for (const [key, value] of Object.entries(output)) {
    for (const text of Array.isArray(value) ? value : [value]) {
      const problem = typeof text === 'string' ? textProblem(text, MULTI_LINE) : null;
      if (problem) problems.push(`${key} ${problem}`);
    }
  }
  if (problems.length > 0) {
    throw new BadRequestException({ message: `output is not a ${type} result`, details: [{ field: 'output', problems: [...new Set(problems)] }] });
  }
}
