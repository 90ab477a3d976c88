import { loggedRequest, loggedUrl } from './logged-url';

describe('a request url as a log line holds it', () => {
  it('given a query, then only its parameter names are kept', () => {
    expect(loggedUrl('/api/stream?token=st_secret.abc&from=start')).toBe('/api/stream?token=…&from=…');
    expect(loggedUrl('/api/missions?title=Anna%20Schmidt&&limit')).toBe('/api/missions?title=…&limit=…');
  });

  it('given no query, then the url is kept whole', () => {
    expect(loggedUrl('/api/missions/0196')).toBe('/api/missions/0196');
    expect(loggedUrl('/api/missions?')).toBe('/api/missions?');
  });

  it('given a request pino serialized, then its url keeps no query value and its parsed query is left out', () => {
    const logged = loggedRequest({ id: 7, method: 'GET', url: '/api/stream?token=st_secret', query: { token: 'st_secret' }, headers: {} });
    expect(logged).toEqual({ id: 7, method: 'GET', url: '/api/stream?token=…', headers: {} });
    expect(JSON.stringify(logged)).not.toContain('st_secret');
  });
});
