/** One criterion's outcome: 0..1, and what to tell the next attempt when it is below 1. */
export interface CheckResult {
  score: number;
  note: string;
}

export type CriterionChecks = Readonly<Record<string, CheckResult>>;

export const met = (note = 'met'): CheckResult => ({ score: 1, note });
export const partly = (score: number, note: string): CheckResult => ({ score, note });
export const missed = (note: string): CheckResult => ({ score: 0, note });

/** Outputs reach the judge unvalidated, so every field is read defensively. */
export function textOf(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

export function textsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item.trim() !== '') : [];
}

export function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
