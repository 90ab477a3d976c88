/**
 * Why a `fetch` failed, as a person reads it: fetch's own message is only "fetch failed", its cause
 * says why (`connect ECONNREFUSED 127.0.0.1:8069`). Read by shape, not `instanceof Error`: fetch's
 * errors come from Node's own realm, which is not the caller's under a VM such as Jest's.
 */
export function fetchFailureCause(error: unknown): string {
  const messageOf = (value: unknown) =>
    typeof value === 'object' && value !== null && 'message' in value && typeof value.message === 'string' ? value.message : undefined;
  const cause = typeof error === 'object' && error !== null && 'cause' in error ? messageOf(error.cause) : undefined;
  return cause ?? messageOf(error) ?? String(error);
}
