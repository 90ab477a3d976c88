/**
 * A request's url as a log line may hold it: its path, and of its query the parameter names alone
 * (`/api/stream?token=…`). A query's value may be a stream token (`GET /api/stream?token=`), which
 * opens the live stream to whoever reads the log, or a search for a guest's name (`title=`).
 */
export function loggedUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const names = url
    .slice(query + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => `${pair.split('=', 1)[0]}=…`);
  return `${url.slice(0, query)}?${names.join('&')}`;
}

/** A request as pino's serializer gives it (pino-std-serializers), the fields a query shows in. */
interface SerializedRequest {
  url?: string;
  query?: unknown;
}

/** The request of a log line written inside it (pino-http, at debug and trace): its url as loggedUrl has it, and no parsed query. */
export function loggedRequest<R extends SerializedRequest>(request: R): Omit<R, 'query'> {
  const { query: _query, ...kept } = request;
  return typeof kept.url === 'string' ? { ...kept, url: loggedUrl(kept.url) } : kept;
}
