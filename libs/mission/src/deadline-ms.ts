/**
 * A mission's deadline in ms, undefined when it has none or it does not parse (one stored before
 * deadlines were validated): the one reading of it that the queue's order, the deadline watch and
 * the overdue decision share, so none takes a deadline another ignores.
 */
export function deadlineMs(deadline: string | undefined): number | undefined {
  const at = deadline === undefined ? Number.NaN : Date.parse(deadline);
  return Number.isFinite(at) ? at : undefined;
}
