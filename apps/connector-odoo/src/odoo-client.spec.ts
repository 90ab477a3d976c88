import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { findFreePort } from '@app/redis';
import { FakeOdooServer } from '@app/testing';
import { majorVersionOf, OdooClient, OdooRpcError, OdooUnavailableError, outcomeUnknown, retryAfterOf } from './odoo-client';

describe('OdooClient (JSON-RPC external API, against a fake Odoo on loopback)', () => {
  let odoo: FakeOdooServer;
  // A loaded machine (the suites run in parallel) took a loopback call past 500 ms now and then, so
  // only the tests of the timeout itself give the client a short one (SHORT_TIMEOUT_MS).
  const client = (overrides: Partial<ConstructorParameters<typeof OdooClient>[0]> = {}) =>
    new OdooClient({ url: odoo.url, db: odoo.db, login: odoo.login, apiKey: odoo.apiKey, timeoutMs: 10_000, ...overrides });
  const SHORT_TIMEOUT_MS = 500;

  beforeEach(async () => {
    odoo = await FakeOdooServer.start();
    odoo.create('helpdesk.ticket', { name: 'Noise in 312', priority: '2' });
  });
  afterEach(async () => odoo.close());

  it('given the right key, then it authenticates once and reads records with execute_kw', async () => {
    const odooClient = client();
    const records = await odooClient.executeKw<{ id: number; name: string }[]>('helpdesk.ticket', 'search_read', [[['priority', '=', '2']]], {
      fields: ['name'],
    });
    await odooClient.executeKw('helpdesk.ticket', 'search_read', [[]], { fields: ['name'] });
    expect(records).toEqual([{ id: 1, name: 'Noise in 312' }]);
    expect(odoo.calls.filter((call) => call === 'common.authenticate')).toHaveLength(1);
  });

  it('given an Odoo served below a path, then its calls go to <ODOO_URL>/jsonrpc, with or without a trailing slash', async () => {
    const proxied = await FakeOdooServer.start('/odoo');
    try {
      proxied.create('helpdesk.ticket', { name: 'Noise in 312' });
      for (const url of [proxied.url, `${proxied.url}/`]) {
        // It posted to the host's /jsonrpc: the path was dropped, and every call was a 404.
        const records = await client({ url }).executeKw<{ id: number }[]>('helpdesk.ticket', 'search_read', [[]], { fields: ['name'] });
        expect(records).toEqual([{ id: 1, name: 'Noise in 312' }]);
      }
    } finally {
      await proxied.close();
    }
  });

  it('given a wrong API key, then the login is refused as AccessDenied', async () => {
    await expect(client({ apiKey: 'wrong' }).authenticate()).rejects.toMatchObject({ name: 'OdooRpcError', exception: 'AccessDenied' });
  });

  it('given a login check, then it logs in once and makes one call that needs the key each time; a wrong key fails it as a refused login', async () => {
    const checked = client();
    await checked.checkLogin();
    await checked.checkLogin();
    // The cached uid alone says nothing of a key revoked since: each check asks Odoo.
    expect(odoo.calls.filter((call) => call === 'common.authenticate')).toHaveLength(1);
    expect(odoo.calls.filter((call) => call === 'res.users.read')).toHaveLength(2);
    await expect(client({ apiKey: 'wrong' }).checkLogin()).rejects.toThrow(/^Odoo refused the login .* \(wrong login or API key\)$/);
  });

  it('given a model the user may not read, then the AccessError comes back with its exception name', async () => {
    odoo.denied.add('helpdesk.ticket');
    const error = await client()
      .executeKw('helpdesk.ticket', 'search_read', [[]])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooRpcError);
    expect(error).toMatchObject({ exception: 'odoo.exceptions.AccessError' });
  });

  it('given an Odoo that is down or does not answer, then the call fails as unavailable within the timeout', async () => {
    odoo.outage = 'down';
    await expect(client().authenticate()).rejects.toBeInstanceOf(OdooUnavailableError);
    odoo.outage = 'hang';
    const started = Date.now();
    await expect(client({ timeoutMs: SHORT_TIMEOUT_MS }).authenticate()).rejects.toBeInstanceOf(OdooUnavailableError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('given an Odoo that takes the connection and never answers, when the garbage collector runs meanwhile, then the call still fails at its timeout', async () => {
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    odoo.outage = 'hang';
    const started = Date.now();
    const calling = client({ timeoutMs: SHORT_TIMEOUT_MS })
      .authenticate()
      .catch((e: unknown) => e);
    // Once fetch is under way, its signals made.
    await new Promise((resolve) => setTimeout(resolve, 100));
    collectGarbage();
    // An AbortSignal.timeout held only by AbortSignal.any was collected, and never fired: the call waited for undici's own limits.
    expect(await calling).toEqual(new OdooUnavailableError(`Odoo did not answer common.authenticate: The operation was aborted due to timeout`));
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('given nothing listening at ODOO_URL, then the error says why, not only that fetch failed', async () => {
    const port = await findFreePort();
    // It read "Odoo did not answer common.authenticate: fetch failed".
    await expect(client({ url: `http://127.0.0.1:${port}` }).authenticate()).rejects.toThrow(
      new OdooUnavailableError(`Odoo did not answer common.authenticate: connect ECONNREFUSED 127.0.0.1:${port}`),
    );
  });

  it('given a server at ODOO_URL that answers JSON but not JSON-RPC, then each call fails as unavailable naming the status and ODOO_URL, not the credentials', async () => {
    for (const body of ['null', '"hello"', '42', '[]', '{"jsonrpc":"2.0"}']) {
      odoo.foreignReply = { status: 200, body };
      const error = await client()
        .executeKw('helpdesk.ticket', 'search_read', [[]])
        .catch((e: unknown) => e);
      // `null` threw a TypeError; the others read as a refused login, sending the operator to the API key.
      expect(error).toBeInstanceOf(OdooUnavailableError);
      expect((error as Error).message).toMatch(/^Odoo answered common\.authenticate with HTTP 200 and .*not a JSON-RPC reply.*check ODOO_URL/);
    }
  });

  it('given a result that is neither a uid nor false from authenticate, then the login fails as unavailable, and false alone as a refused login', async () => {
    odoo.foreignReply = { status: 200, body: '{"jsonrpc":"2.0","id":1,"result":null}' };
    const error = await client()
      .authenticate()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdooUnavailableError);
    expect((error as Error).message).toBe('Odoo answered common.authenticate with JSON null, neither a user id nor false (a refused login): check ODOO_URL');
    odoo.foreignReply = { status: 200, body: '{"jsonrpc":"2.0","id":1,"result":false}' };
    await expect(client().authenticate()).rejects.toMatchObject({ name: 'OdooRpcError', exception: 'AccessDenied' });
  });

  it('given an answer whose body is slower than the timeout, then the call fails as unavailable naming the timeout, not a missing JSON-RPC body', async () => {
    odoo.bodyDelayMs = 2_000;
    const started = Date.now();
    // The timeout was swallowed as an empty body: "no JSON-RPC body: check ODOO_URL", for an Odoo that was only slow.
    await expect(client({ timeoutMs: SHORT_TIMEOUT_MS }).authenticate()).rejects.toThrow(
      new OdooUnavailableError('Odoo answered common.authenticate with HTTP 200, but its body did not arrive within ODOO_TIMEOUT_MS (500 ms)'),
    );
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('given a 5xx whose body is a JSON-RPC result, then the call fails as unavailable naming the status', async () => {
    odoo.foreignReply = { status: 502, body: '{"jsonrpc":"2.0","id":1,"result":7}' };
    // The status was never read: a proxy's 502 with a JSON body passed for Odoo's answer.
    await expect(client().authenticate()).rejects.toThrow(
      new OdooUnavailableError('Odoo answered common.authenticate with HTTP 502: Odoo, or a proxy before it, failed'),
    );
  });

  it("given any 5xx to a call that writes, then its outcome is unknown (a proxy may have passed it on); a read's only for a 502 or 504", async () => {
    const failureOf = async (status: number, method: string) => {
      odoo.foreignReply = null;
      const loggedIn = client();
      await loggedIn.authenticate();
      odoo.foreignReply = { status, body: 'error' };
      return loggedIn.executeKw('helpdesk.ticket', method, [[1]], {}).catch((e: unknown) => e);
    };
    // Cloudflare's 524 (Odoo got the post and is still making it), 520, 522, and some proxies' 500 or
    // 503 were taken for a failure, and a slow post behind them was posted again.
    for (const status of [500, 503, 520, 522, 524]) {
      expect(outcomeUnknown(await failureOf(status, 'message_post'))).toBe(true);
      expect(outcomeUnknown(await failureOf(status, 'write'))).toBe(true);
      expect(outcomeUnknown(await failureOf(status, 'search_read'))).toBe(false);
    }
    expect(outcomeUnknown(await failureOf(502, 'search_read'))).toBe(true);
  });

  it("given a call that meets no answer in time, a 504 or a 429, then it failed under load; Odoo's own 503 or a proxy's 502 did not", async () => {
    const failureOf = async (make: () => void, timeoutMs?: number) => {
      make();
      return (await client(timeoutMs === undefined ? {} : { timeoutMs })
        .authenticate()
        .catch((e: unknown) => e)) as OdooUnavailableError;
    };
    const reset = () => {
      odoo.outage = null;
      odoo.foreignReply = null;
      odoo.bodyDelayMs = null;
    };
    // What a heavy poll meets while a login check gets through: the connector's host keeps it a poll problem.
    const underLoad = [
      await failureOf(() => (odoo.outage = 'hang'), SHORT_TIMEOUT_MS),
      await failureOf(() => (reset(), (odoo.bodyDelayMs = 2_000)), SHORT_TIMEOUT_MS),
      await failureOf(() => (reset(), (odoo.foreignReply = { status: 504, body: 'gateway timeout' }))),
      await failureOf(() => (reset(), (odoo.foreignReply = { status: 429, body: 'slow down' }))),
    ];
    const down = [
      await failureOf(() => (reset(), (odoo.outage = 'down'))),
      await failureOf(() => (reset(), (odoo.foreignReply = { status: 503, body: 'down' }))),
      await failureOf(() => (reset(), (odoo.foreignReply = { status: 502, body: 'bad gateway' }))),
    ];
    reset();
    expect(underLoad.map((error) => [error.message, error.underLoad])).toEqual(underLoad.map((error) => [error.message, true]));
    expect(down.map((error) => [error.message, error.underLoad])).toEqual(down.map((error) => [error.message, false]));
  });

  it('given a 429, a 503 or a 404, then each is named for what it is, and a Retry-After is kept for the backoff', async () => {
    const failureOf = async (status: number, headers: Record<string, string> = {}) => {
      odoo.foreignReply = { status, body: 'no', headers };
      return (await client()
        .authenticate()
        .catch((e: unknown) => e)) as OdooUnavailableError;
    };
    // Each said "not Odoo's 200: check ODOO_URL, and that Odoo is up".
    const limited = await failureOf(429, { 'retry-after': '120' });
    expect(limited.message).toBe(
      'Odoo answered common.authenticate with HTTP 429: Odoo, or a proxy before it, is rate limiting the connector; it asks to wait 120 s (Retry-After), and the next call waits at least that',
    );
    expect(retryAfterOf(limited)).toBe(120_000);
    const at = new Date(Date.now() + 60_000).toUTCString();
    expect(retryAfterOf(await failureOf(503, { 'retry-after': at }))).toBeGreaterThan(55_000);
    const down = await failureOf(503);
    expect(down.message).toBe('Odoo answered common.authenticate with HTTP 503: Odoo, or a proxy before it, failed');
    expect(retryAfterOf(down)).toBe(0);
    expect((await failureOf(404)).message).toBe("Odoo answered common.authenticate with HTTP 404, not Odoo's 200: check ODOO_URL");
    expect(retryAfterOf(await failureOf(429, { 'retry-after': 'soon' }))).toBe(0);
    // Too long to be a finite number: an hour, the longest taken, not no wait at all.
    expect(retryAfterOf(await failureOf(429, { 'retry-after': '9'.repeat(309) }))).toBe(3_600_000);
    expect(retryAfterOf(await failureOf(429, { 'retry-after': '86400' }))).toBe(3_600_000);
  });

  it("given a Retry-After, then the client's next calls, whoever makes them, fail at once as rate limited, and none reaches Odoo before it", async () => {
    const shared = client();
    odoo.foreignReply = { status: 429, body: 'slow down', headers: { 'retry-after': '120' } };
    await expect(shared.authenticate()).rejects.toThrow(/HTTP 429/);
    odoo.foreignReply = null;
    const sent = odoo.requests;

    // The poll, a write-back and a refusal note each honoured only their own Retry-After.
    const error = (await shared.executeKw('helpdesk.ticket', 'search_read', [[]]).catch((e: unknown) => e)) as OdooUnavailableError;
    expect(error.message).toMatch(/^Odoo was not called \(common\.authenticate\): it asked to wait 1[12]\d s more \(Retry-After\)$/);
    expect(retryAfterOf(error)).toBeGreaterThan(110_000);
    expect(shared.rateLimitedForMs).toBeGreaterThan(110_000);
    expect(odoo.requests).toBe(sent);
  });

  it('given a search_read answered with no list of records, then the call fails naming it, not as "(intermediate value) is not iterable"', async () => {
    const searchReadOf = async (result: string) => {
      odoo.foreignReply = null;
      const loggedIn = client();
      await loggedIn.authenticate();
      odoo.foreignReply = { status: 200, body: `{"jsonrpc":"2.0","id":1,"result":${result}}` };
      return loggedIn.executeKw('helpdesk.ticket', 'search_read', [[]]);
    };
    await expect(searchReadOf('7')).rejects.toThrow(
      new OdooUnavailableError('Odoo answered helpdesk.ticket.search_read with a JSON number, not a list of records: check ODOO_URL'),
    );
    await expect(searchReadOf('[7]')).rejects.toThrow(/search_read with a JSON array of other things, not a list of records/);
    await expect(searchReadOf('[{"id":7}]')).resolves.toEqual([{ id: 7 }]);
  });

  it('given a JSON-RPC error that is a bare string, then its text is named, bounded and without control characters', async () => {
    odoo.foreignReply = { status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: 1, error: `Session expired\n\u0007${'x'.repeat(500)}` }) };
    const error = (await client()
      .authenticate()
      .catch((e: unknown) => e)) as OdooRpcError;
    // It said "failed: error (unknown)".
    expect(error).toBeInstanceOf(OdooRpcError);
    expect(error.message).toBe(`Odoo common.authenticate failed: Session expired ${'x'.repeat(184)}… (unknown)`);
  });

  it('given a redirect from ODOO_URL, then it is not followed: the call fails as unavailable naming where it pointed, and nothing reaches there', async () => {
    const elsewhere = await FakeOdooServer.start();
    try {
      for (const status of [301, 302, 307, 308]) {
        odoo.foreignReply = { status, body: '', headers: { location: `${elsewhere.url}/jsonrpc?state=t0k3n` } };
        // A 307 resent the login, the API key in its body, to the other server, and the connector read its answer as Odoo's.
        await expect(client().authenticate()).rejects.toThrow(
          new OdooUnavailableError(
            // The host alone: the rest of a Location (an SSO's state or token) would go to the log and to readiness, which needs no key.
            `Odoo answered common.authenticate with HTTP ${status}, a redirect to ${new URL(elsewhere.url).host}, which the connector does not follow (it would send the API key there): set ODOO_URL to where Odoo answers`,
          ),
        );
      }
      expect(elsewhere.calls).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it("given Odoo Online's version names, then saas~NN and saas~NN.M read as major NN", async () => {
    odoo.majorVersion = 18;
    odoo.saasMinor = 1;
    await expect(client().serverMajorVersion()).resolves.toBe(18);
    expect(majorVersionOf({ server_version: 'saas~17.4+e', server_version_info: ['saas~17.4', 0, 0, 'final', 0, ''] })).toBe(17);
    expect(majorVersionOf({ server_version: 'saas~16.3+e', server_version_info: [] })).toBe(16);
    expect(majorVersionOf({ server_version_info: [16, 0, 0, 'final', 0, ''] })).toBe(16);
    // Nothing that names a version: older than any numbered release.
    expect(majorVersionOf({ server_version: 'master', server_version_info: ['master'] })).toBe(0);
    expect(majorVersionOf(null)).toBe(0);
  });
});
