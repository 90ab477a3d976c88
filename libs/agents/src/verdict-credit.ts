/** Credits an agent earns for a passing verdict, per point of score (0..1). */
export const CREDITS_PER_PASS_SCORE = 10;
/** Credits an agent loses for a failing verdict. */
export const CREDITS_PER_FAIL = -5;

/** What a verdict moves the agent's credits by: score × 10 on a pass (to the cent), −5 on a fail. */
export function verdictCreditDelta(score: number, passed: boolean): number {
  return passed ? Math.round(score * CREDITS_PER_PASS_SCORE * 100) / 100 : CREDITS_PER_FAIL;
}
