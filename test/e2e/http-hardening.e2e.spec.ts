import { request as httpRequest, IncomingHttpHeaders, Server, STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import { waitFor } from '@app/testing';
import { MissionQueryService } from '../../apps/intake/src/missions/mission-query.service';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

/** Small limits, so that real sockets on loopback hit them within a test. */
const LIMITS = {
  AUTH_FAILURES_PER_MINUTE: '3',
  HTTP_HEADERS_TIMEOUT_MS: '300',
  HTTP_REQUEST_TIMEOUT_MS: '600',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '200',
  HTTP_MAX_CONNECTIONS: '6',
};
/** Node checks the timeouts once a second; this leaves room for that and a slow machine. */
const CLOSE_WITHIN_MS = 4_000;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Text in the refused requests below that no answer may quote: an error body ends up in clients' logs. */
const MARKER = 'guest-marker@example.com';

/**
 * A raw answer: its status line, headers (names in lowercase) and body, which must be the JSON error
 * body of the README; and whether it closes the connection.
 */
function errorAnswer(text: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  expect(headers['content-type']).toMatch(/^application\/json/);
  expect(Buffer.byteLength(body)).toBe(Number(headers['content-length']));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
}

/** A raw connection: what it received, and whether the server has closed it. */
interface RawConnection {
  received: () => string;
  closed: () => boolean;
  write: (data: string) => void;
  destroy: () => void;
}

describe('HTTP hardening of the intake (real sockets on loopback)', () => {
  let system: InProcessSystem;
  let port: number;
  const raw: RawConnection[] = [];

  /** One request from a chosen loopback address, so failures can be counted per address. */
  function send(options: { path?: string; method?: string; headers?: Record<string, string>; body?: string; from?: string }): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const call = httpRequest(
        {
          host: '127.0.0.1',
          port,
          localAddress: options.from ?? '127.0.0.1',
          method: options.method ?? 'GET',
          path: options.path ?? '/api/missions/queue/stats',
          headers: options.headers,
          agent: false,
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
        },
      );
      call.on('error', reject);
      call.end(options.body);
    });
  }

  function open(data: string, from = '127.0.0.1'): RawConnection {
    let received = '';
    let closed = false;
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    socket.write(data);
    const connection = { received: () => received, closed: () => closed, write: (more: string) => socket.write(more), destroy: () => socket.destroy() };
    raw.push(connection);
    return connection;
  }

  const closedByServer = (connection: RawConnection, what: string) =>
    waitFor(async () => (connection.closed() ? connection.received() || 'closed' : null), { timeoutMs: CLOSE_WITHIN_MS, what });

  const connections = () =>
    new Promise<number>((resolve, reject) =>
      (system.intake.getHttpServer() as Server).getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-http-hardening', LIMITS);
    await system.intake.listen(0, '127.0.0.1');
    port = ((system.intake.getHttpServer() as Server).address() as { port: number }).port;
  });
  afterEach(() => {
    for (const connection of raw.splice(0)) connection.destroy();
  });
  afterAll(async () => system.close());

  it('given a large body without a key, then 401 comes before the body is read, and the connection is closed', async () => {
    // Announces 300 KB but sends 1 KB: a server that read the body first would still be waiting.
    const connection = open(
      'POST /api/missions HTTP/1.1\r\nHost: intake\r\nContent-Type: application/json\r\nContent-Length: 300000\r\n\r\n' + '{"a":['.repeat(170),
      '127.0.0.4',
    );
    const answer = await closedByServer(connection, 'the server to answer and close');
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('missing API key');
  });

  it('given a large body with a key whose role may not call the route, then 403 comes before the body is read, and the connection is closed', async () => {
    const connection = open(
      `POST /api/missions HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer ${TEST_KEYS.reader}\r\nContent-Type: application/json\r\nContent-Length: 300000\r\n\r\n` +
        '{"a":['.repeat(170),
    );
    const answer = await closedByServer(connection, 'the server to answer and close');
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('has role reader');
  });

  it('given a body announced over BODY_LIMIT_BYTES with a key that may call the route, then 413 comes before the body is read, and the connection is closed', async () => {
    // body-parser's own 413 comes only after it has read off the whole announced body (10 MB here).
    const connection = open(
      `POST /api/missions HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer ${TEST_KEYS.submitter}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"a":1`,
    );
    const answer = await closedByServer(connection, 'the server to answer and close');
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('given repeated failed authentications from one address, then its failures get 429 with Retry-After, and other addresses do not', async () => {
    const from = '127.0.0.2';
    const wrong = { 'X-API-Key': 'wrong-secret-0123456789' };
    for (let i = 0; i < 3; i++) expect((await send({ from, headers: i === 0 ? {} : wrong })).status).toBe(401);
    const limited = await send({ from, headers: wrong });
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body)).toMatchObject({ statusCode: 429, error: 'Too Many Requests', details: [] });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await send({ from, headers: {} })).status).toBe(429);
    expect((await send({ from: '127.0.0.3', headers: { Authorization: `Bearer ${TEST_KEYS.reader}` } })).status).toBe(200);
    // Counted in the shared throttler storage, per address.
    expect(Number(await system.redis.get(`${system.prefix}ratelimit:auth:ip:${from}`))).toBeGreaterThan(3);
  });

  it('given an address blocked by keyless requests, then a valid key from it still passes, and a wrong key or none is still a 429', async () => {
    // Anyone behind a shared address (a NAT, a proxy) must not lock the operator out.
    const from = '127.0.0.6';
    for (let i = 0; i < 3; i++) expect((await send({ from })).status).toBe(401);
    expect((await send({ from })).status).toBe(429);
    const operator = await send({ from, path: '/api/me', headers: { Authorization: `Bearer ${TEST_KEYS.operator}` } });
    expect(operator.status).toBe(200);
    expect(JSON.parse(operator.body)).toMatchObject({ role: 'operator' });
    expect((await send({ from, headers: { 'X-API-Key': TEST_KEYS.reader } })).status).toBe(200);
    const wrong = await send({ from, headers: { 'X-API-Key': 'wrong-secret-0123456789' } });
    expect(wrong.status).toBe(429);
    expect(JSON.parse(wrong.body)).toMatchObject({ statusCode: 429, message: expect.stringMatching(/^too many failed authentications/) });
    expect((await send({ from })).status).toBe(429);
  });

  it('given LIST_SCANS_PER_KEY (2) list scans of one key in flight, then another list request of that key is a 429 with Retry-After: 1 at once; other keys and routes are served, and the key again once one answers', async () => {
    // A rare filter makes each page read up to 5,000 records: the two pages are held inside the route, so they stay in flight.
    const queries = system.intake.get(MissionQueryService);
    const list = queries.list.bind(queries);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let bothIn!: () => void;
    const inFlight = new Promise<void>((resolve) => (bothIn = resolve));
    let entered = 0;
    const hold = jest.spyOn(queries, 'list').mockImplementation(async (query, caller) => {
      entered += 1;
      if (entered <= 2) {
        if (entered === 2) bothIn();
        await gate;
      }
      return list(query, caller);
    });
    const reader = { Authorization: `Bearer ${TEST_KEYS.reader}` };
    const scan = '/api/missions?limit=1&title=zzzznomatch';
    try {
      const held = [send({ path: scan, headers: reader }), send({ path: scan, headers: reader })];
      await inFlight;
      const refused = await send({ path: scan, headers: reader });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(JSON.parse(refused.body)).toMatchObject({ statusCode: 429, message: expect.stringMatching(/^too many list requests of this API key at once/) });
      // The review inbox walks the partitions too: the same slots.
      expect((await send({ path: '/api/reviews', headers: reader })).status).toBe(429);
      expect(entered).toBe(2);
      // Within the bound: another key's scan, and the same key's other routes.
      expect((await send({ path: scan, headers: { Authorization: `Bearer ${TEST_KEYS.operator}` } })).status).toBe(200);
      expect((await send({ path: '/api/me', headers: reader })).status).toBe(200);
      release();
      for (const answer of await Promise.all(held)) expect(answer.status).toBe(200);
      expect((await send({ path: scan, headers: reader })).status).toBe(200);
      expect((await send({ path: '/api/reviews', headers: reader })).status).toBe(200);
    } finally {
      release();
      hold.mockRestore();
    }
  });

  it('given two different keys, one in each header, then 401 saying so, counted as a failed authentication; the same key in both passes', async () => {
    const from = '127.0.0.5';
    const twoKeys = { 'X-API-Key': TEST_KEYS.reader, Authorization: `Bearer ${TEST_KEYS.operator}` };
    const refused = await send({ from, method: 'POST', path: '/api/retention/run', headers: twoKeys });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ statusCode: 401, message: expect.stringMatching(/^two different API keys/) });
    const same = { 'X-API-Key': TEST_KEYS.reader, Authorization: `Bearer ${TEST_KEYS.reader}` };
    expect((await send({ from, headers: same })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await send({ from, headers: twoKeys })).status).toBe(401);
    expect((await send({ from, headers: twoKeys })).status).toBe(429);
  });

  it('given connections that never finish their headers, filling the cap, then new ones are refused until the headers timeout frees them', async () => {
    const slow = Array.from({ length: Number(LIMITS.HTTP_MAX_CONNECTIONS) }, () => open('GET /api/missions HTTP/1.1\r\nHost: intake\r\n'));
    await waitFor(async () => (await connections()) === slow.length, { timeoutMs: CLOSE_WITHIN_MS, what: 'the slow connections to be accepted' });
    await expect(send({ headers: { Authorization: `Bearer ${TEST_KEYS.reader}` } })).rejects.toThrow();
    for (const connection of slow) {
      const answer = errorAnswer(await closedByServer(connection, 'a slow connection to be timed out'));
      expect(answer).toMatchObject({ status: 408, headers: { connection: 'close' }, body: { statusCode: 408, error: 'Request Timeout', details: [] } });
    }
    expect((await send({ headers: { Authorization: `Bearer ${TEST_KEYS.reader}` } })).status).toBe(200);
  });

  it('given a request whose body never finishes, then the request timeout answers 408 and closes', async () => {
    const connection = open(
      `POST /api/missions HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer ${TEST_KEYS.submitter}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":`,
    );
    const answer = errorAnswer(await closedByServer(connection, 'the request timeout'));
    expect(answer).toMatchObject({ status: 408, headers: { connection: 'close' }, body: { statusCode: 408, error: 'Request Timeout', details: [] } });
    expect((answer.body as { message: string }).message).toMatch(/^the request did not arrive in time: its headers within 300 ms, all of it within 600 ms$/);
  });

  const sixteenKiB = 16 * 1024;
  it.each([
    ['a URL over 16 KiB', 431, `GET /api/missions?q=${MARKER}${'a'.repeat(sixteenKiB)} HTTP/1.1\r\nHost: intake\r\n\r\n`],
    ['a 17 KiB header', 431, `GET /health HTTP/1.1\r\nHost: intake\r\nX-Big: ${MARKER}${'a'.repeat(17 * 1024)}\r\n\r\n`],
    ['3,000 headers', 431, `GET /health HTTP/1.1\r\nHost: intake\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${MARKER}\r\n`).join('')}\r\n`],
    // To a route that answers only once the body is read: /health would answer (a 404 to a POST) before the parser reaches the chunk.
    [
      'a bad chunk size',
      400,
      `POST /api/missions HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer ${TEST_KEYS.submitter}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz${MARKER}\r\n{}\r\n0\r\n\r\n`,
    ],
    [
      'Transfer-Encoding with Content-Length',
      400,
      `POST /health HTTP/1.1\r\nHost: intake\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    ],
    ['two different Content-Length headers', 400, `POST /health HTTP/1.1\r\nHost: intake\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
    ['Content-Length: -1', 400, `POST /health HTTP/1.1\r\nHost: intake\r\nContent-Length: -1\r\n\r\n`],
    ['an obs-fold header', 400, `GET /health HTTP/1.1\r\nHost: intake\r\nX-Folded: a\r\n ${MARKER}\r\n\r\n`],
    ['LF-only line endings', 400, `GET /health HTTP/1.1\nHost: intake\nX-A: ${MARKER}\n\n`],
    ['a control character in a header', 400, `GET /health HTTP/1.1\r\nHost: intake\r\nX-A: ${MARKER}\u0001\r\n\r\n`],
    // No method token: another protocol's bytes (a TLS hello to the plain port).
    ['bytes of another protocol', 400, `\u0016\u0003\u0001\u0000\u00a5\u0001${MARKER}`],
    // Used to be 400s, which told the client its request was malformed rather than what to change.
    ['an unknown method', 501, `FOO /health?q=${MARKER} HTTP/1.1\r\nHost: intake\r\n\r\n`],
    ['HTTP/1.2', 505, `GET /health?q=${MARKER} HTTP/1.2\r\nHost: intake\r\n\r\n`],
    ['HTTP/3.0', 505, `GET /health?q=${MARKER} HTTP/3.0\r\nHost: intake\r\n\r\n`],
  ])(
    "given %s, then Node's parser refusal is a %i with the JSON error body, quoting none of the request, and the connection is closed",
    async (_what, status, request) => {
      const text = await closedByServer(open(request), 'the server to answer and close');
      const answer = errorAnswer(text);
      expect(answer).toMatchObject({ status, headers: { connection: 'close' }, body: { statusCode: status, error: STATUS_CODES[status], details: [] } });
      expect((answer.body as { message: unknown }).message).toEqual(expect.any(String));
      expect(text).not.toContain(MARKER);
    },
  );

  it('given an unknown method, then the 501 lists the methods the server takes', async () => {
    const answer = errorAnswer(await closedByServer(open('BREW /api/missions HTTP/1.1\r\nHost: intake\r\n\r\n'), 'the server to answer and close'));
    expect(answer).toMatchObject({
      status: 501,
      headers: { allow: 'GET, HEAD, POST, PATCH, DELETE' },
      body: { message: 'the request method is not one this server implements' },
    });
  });

  it("given an HTTP/2 client with prior knowledge, then it gets HTTP/2's SETTINGS and GOAWAY with HTTP_1_1_REQUIRED, and the connection is closed", async () => {
    // It used to get an HTTP/1.1 400, which an HTTP/2 client cannot read: now it knows to retry over HTTP/1.1.
    const received = await closedByServer(open('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 'the server to answer and close');
    const bytes = [...received].map((character) => character.charCodeAt(0));
    expect(bytes).toEqual([0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xd]);
  });

  it('given a CONNECT, then it is a 405 with the JSON error body, and the connection is closed', async () => {
    const answer = errorAnswer(
      await closedByServer(open('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'), 'the server to answer and close'),
    );
    expect(answer).toMatchObject({
      status: 405,
      headers: { connection: 'close', allow: expect.stringContaining('GET') },
      body: { statusCode: 405, error: 'Method Not Allowed', details: [] },
    });
  });

  it.each([
    ['no key', 401, '127.0.0.7', 'Content-Type: application/json\r\nContent-Length: 20'],
    [
      'a Content-Length over BODY_LIMIT_BYTES',
      413,
      '127.0.0.1',
      `Authorization: Bearer ${TEST_KEYS.submitter}\r\nContent-Type: application/json\r\nContent-Length: 999999`,
    ],
    ['a body that is not JSON', 415, '127.0.0.1', `Authorization: Bearer ${TEST_KEYS.submitter}\r\nContent-Type: text/plain\r\nContent-Length: 20`],
  ])('given Expect: 100-continue with %s, then the %i comes without 100 Continue, and the connection is closed', async (_what, status, from, headers) => {
    const connection = open(`POST /api/missions HTTP/1.1\r\nHost: intake\r\nExpect: 100-continue\r\n${headers}\r\n\r\n`, from);
    const answer = errorAnswer(await closedByServer(connection, 'the server to answer and close'));
    expect(answer).toMatchObject({ status, headers: { connection: 'close' }, body: { statusCode: status } });
  });

  it('given Expect: 100-continue with a key that may send the body, then 100 Continue comes, and the body sent after it is read', async () => {
    const connection = open(
      `POST /api/stream/tokens HTTP/1.1\r\nHost: intake\r\nExpect: 100-continue\r\nAuthorization: Bearer ${TEST_KEYS.reader}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n`,
    );
    await waitFor(async () => connection.received() === 'HTTP/1.1 100 Continue\r\n\r\n', { timeoutMs: CLOSE_WITHIN_MS, what: '100 Continue' });
    connection.write('{}');
    await waitFor(async () => connection.received().includes('"token"'), { timeoutMs: CLOSE_WITHIN_MS, what: 'the token' });
    expect(connection.received()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
  });

  it('given a chunked body that passes BODY_LIMIT_BYTES and goes on, then 413 comes at once, and the connection is closed', async () => {
    // 5 × 64 KiB over the 256 KiB limit, and no terminating chunk: the rest could go on until the request timeout, or forever.
    const chunk = `10000\r\n${'x'.repeat(0x10000)}\r\n`;
    const connection = open(
      `POST /api/missions HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer ${TEST_KEYS.submitter}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        chunk.repeat(5),
    );
    const answer = errorAnswer(await closedByServer(connection, 'the server to answer and close'));
    expect(answer).toMatchObject({
      status: 413,
      headers: { connection: 'close' },
      body: { statusCode: 413, message: 'the request body is over BODY_LIMIT_BYTES (262144 bytes)' },
    });
  });

  it('given an idle keep-alive connection, then the server closes it after the keep-alive timeout', async () => {
    const connection = open(`GET /api/missions/queue/stats HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer ${TEST_KEYS.reader}\r\n\r\n`);
    await waitFor(async () => connection.received().startsWith('HTTP/1.1 200 '), { timeoutMs: CLOSE_WITHIN_MS, what: 'the answer' });
    expect(connection.closed()).toBe(false);
    expect(await closedByServer(connection, 'the idle connection to be closed')).toMatch(/^HTTP\/1\.1 200 /);
  });
});
