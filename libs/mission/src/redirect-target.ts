/**
 * Where a redirect points, for an error message: the host its Location names, never the rest of it
 * (its path or query may carry a token, and such messages end up in logs, readiness bodies and
 * stored events). A relative Location is the answering host's own path. Used by the HTTP clients
 * that follow no redirect (the LLM provider's, Odoo's).
 */
export function redirectTarget(location: string | null | undefined): string {
  if (!location) return 'nowhere (no Location)';
  try {
    return new URL(location, 'relative:/').host || 'a path of the same host';
  } catch {
    return 'an address that does not parse';
  }
}
