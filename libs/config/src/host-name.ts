/**
 * A DNS host name as a connection can resolve it: dot-separated labels of letters, digits, `-` and
 * `_` (container and service names have them), none starting or ending with `-`, at most 63
 * characters each and 253 in all, with or without the root's trailing dot (`redis.svc.cluster.local.`,
 * which skips the resolver's search domains). A URL's parser takes far more (`*.example.com` is a host to it),
 * which would pass a variable at start that can never match or connect.
 */
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST_NAME = new RegExp(`^(?=.{1,254}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

export function isHostName(text: string): boolean {
  return HOST_NAME.test(text);
}
