import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countingLoadsOf } from '@app/testing';
import { ConfigError, loadEnvironment } from './load-config';
import { odooSinceOf } from './odoo-since';
import { parseResourceAttributes } from './resource-attributes';
import { readReviewPolicy } from './review-policy-file';

/** What loadEnvironment refuses in `source` (none when it loads). */
function problemsOf(source: NodeJS.ProcessEnv): string[] {
  try {
    loadEnvironment(source);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

describe('loadEnvironment', () => {
  it('given an empty environment, then every default applies', () => {
    const env = loadEnvironment({});
    expect(env.KEY_PREFIX).toBe('brain:');
    expect(env.MAX_ATTEMPTS).toBe(3);
    expect(env.LLM_PROVIDER).toBe('mock');
    expect(env.MOCK_LLM_LATENCY_MS).toBe(0);
    expect(env.PORT).toBeUndefined();
  });

  it('given the HTTP limits, then they have safe defaults and out-of-range values are refused', () => {
    const env = loadEnvironment({});
    expect([
      env.AUTH_FAILURES_PER_MINUTE,
      env.HTTP_HEADERS_TIMEOUT_MS,
      env.HTTP_REQUEST_TIMEOUT_MS,
      env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      env.HTTP_MAX_CONNECTIONS,
    ]).toEqual([30, 10_000, 30_000, 5_000, 900]);
    expect(() => loadEnvironment({ AUTH_FAILURES_PER_MINUTE: '0' })).toThrow(/AUTH_FAILURES_PER_MINUTE="0"/);
    expect(() => loadEnvironment({ HTTP_HEADERS_TIMEOUT_MS: '5' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS="5"/);
    expect(() => loadEnvironment({ HTTP_MAX_CONNECTIONS: 'many' })).toThrow(/HTTP_MAX_CONNECTIONS="many"/);
  });

  it('given HEAP_GROWING_PERCENT, then a percent 0-300 is taken; unset, the heap may grow by 100 %', () => {
    expect(loadEnvironment({}).HEAP_GROWING_PERCENT).toBe(100);
    expect(loadEnvironment({ HEAP_GROWING_PERCENT: '0' }).HEAP_GROWING_PERCENT).toBe(0);
    expect(loadEnvironment({ HEAP_GROWING_PERCENT: '80' }).HEAP_GROWING_PERCENT).toBe(80);
    for (const bad of ['-1', '301', '12.5', 'lots']) {
      expect(() => loadEnvironment({ HEAP_GROWING_PERCENT: bad })).toThrow(new RegExp(`HEAP_GROWING_PERCENT="${bad}"`));
    }
  });

  it('given numbers as strings, then they are converted', () => {
    const env = loadEnvironment({ MAX_ATTEMPTS: '5', MOCK_LLM_FAILURE_RATE: '0.25', PORT: '8080' });
    expect(env.MAX_ATTEMPTS).toBe(5);
    expect(env.MOCK_LLM_FAILURE_RATE).toBe(0.25);
    expect(env.PORT).toBe(8080);
  });

  it('given bad values, then one error names every bad variable', () => {
    const attempt = () => loadEnvironment({ MAX_ATTEMPTS: 'zero', REDIS_URL: 'localhost', LLM_PROVIDER: 'gpt' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/MAX_ATTEMPTS="zero"/);
      expect(problems).toMatch(/REDIS_URL="localhost": REDIS_URL must look like/);
      expect(problems).toMatch(/LLM_PROVIDER="gpt"/);
    }
  });

  it('given a number variable that is no number, then it says so, without its bounds', () => {
    // It used to add "must not be greater than 256; must not be less than 1" to a value that is no number at all.
    expect(() => loadEnvironment({ LOG_PARTITIONS: 'abc' })).toThrow(
      new ConfigError(['LOG_PARTITIONS="abc": LOG_PARTITIONS must be an integer number in decimal digits']),
    );
    expect(() => loadEnvironment({ LOG_PARTITIONS: '300' })).toThrow(new ConfigError(['LOG_PARTITIONS="300": LOG_PARTITIONS must not be greater than 256']));
  });

  it('given a number variable of blanks only, then it is refused as blank, not read as 0 (which Number() makes of it)', () => {
    expect(
      problemsOf({ RETRY_BASE_MS: ' ', FAILED_STREAM_MAX_LEN: '  ', MOCK_LLM_FAILURE_RATE: ' ', OTEL_TRACES_SAMPLER_ARG: '\t', MAX_ATTEMPTS: ' ', PORT: ' ' }),
    ).toEqual(
      ['PORT', 'MAX_ATTEMPTS', 'MOCK_LLM_FAILURE_RATE', 'RETRY_BASE_MS', 'FAILED_STREAM_MAX_LEN', 'OTEL_TRACES_SAMPLER_ARG'].map((name) =>
        expect.stringMatching(new RegExp(`^${name}="(\\s|\\\\t)+": set but blank; unset it for the default or give a value$`)),
      ),
    );
    for (const name of ['LLM_MAX_RETRIES', 'SHUTDOWN_GRACE_MS', 'DATA_KEY_CACHE_TTL_MS', 'SCHEDULE_CATCH_UP_MS', 'HEAP_GROWING_PERCENT']) {
      expect(problemsOf({ [name]: ' ' })).toEqual([`${name}=" ": set but blank; unset it for the default or give a value`]);
    }
  });

  it('given a number written other than in decimal digits, then it is refused; spaces around it are dropped, as the launcher drops them', () => {
    for (const bad of ['0x3', '0b11', '1e1', '+3', '3.0', '3 3']) {
      expect(problemsOf({ MAX_ATTEMPTS: bad })).toEqual([`MAX_ATTEMPTS=${JSON.stringify(bad)}: MAX_ATTEMPTS must be an integer number in decimal digits`]);
    }
    for (const bad of ['.5', '5.', '1e-1', '0x1', 'Infinity']) {
      expect(problemsOf({ MOCK_LLM_FAILURE_RATE: bad })).toEqual([
        `MOCK_LLM_FAILURE_RATE=${JSON.stringify(bad)}: MOCK_LLM_FAILURE_RATE must be a number in decimal digits`,
      ]);
    }
    expect(loadEnvironment({ MAX_ATTEMPTS: ' 3 ', MOCK_LLM_FAILURE_RATE: '\t0.25 ', PORT: ' 8080' })).toMatchObject({
      MAX_ATTEMPTS: 3,
      MOCK_LLM_FAILURE_RATE: 0.25,
      PORT: 8080,
    });
    // A negative one is a number out of range: its bound says why.
    expect(problemsOf({ RETRY_BASE_MS: '-1' })).toEqual(['RETRY_BASE_MS="-1": RETRY_BASE_MS must not be less than 0']);
  });

  it('given empty strings, then they count as unset', () => {
    expect(loadEnvironment({ LOG_LEVEL: '', PORT: '' })).toMatchObject({ LOG_LEVEL: 'info', PORT: undefined });
  });

  it("given an empty KEY_PREFIX, then it is refused instead of taking the default, another deployment's keys", () => {
    expect(() => loadEnvironment({ KEY_PREFIX: '', PORT: 'x' })).toThrow(
      new ConfigError(['KEY_PREFIX="": set but empty; unset it for the default or give a value', 'PORT="x": PORT must be an integer number in decimal digits']),
    );
  });

  it('given LISTEN_HOST, then an IP address or localhost is taken and anything else refused; unset, every interface', () => {
    expect(loadEnvironment({}).LISTEN_HOST).toBeUndefined();
    for (const host of ['127.0.0.1', '::1', '0.0.0.0', 'localhost']) expect(loadEnvironment({ LISTEN_HOST: host }).LISTEN_HOST).toBe(host);
    for (const bad of ['example.com', '127.0.0.1:3000', '999.1.1.1']) {
      expect(() => loadEnvironment({ LISTEN_HOST: bad })).toThrow(new RegExp(`LISTEN_HOST="${bad}": LISTEN_HOST must be an IPv4 or IPv6 address`));
    }
  });

  it('given a KEY_PREFIX without its closing ":", then it is refused: it would be the start of other prefixes', () => {
    expect(() => loadEnvironment({ KEY_PREFIX: 'walk' })).toThrow(/KEY_PREFIX="walk": KEY_PREFIX must end with ":"/);
    expect(() => loadEnvironment({ KEY_PREFIX: 'walk:{x}:' })).toThrow(/KEY_PREFIX="walk:\{x\}:"/);
    expect(loadEnvironment({ KEY_PREFIX: 'walk-other:' }).KEY_PREFIX).toBe('walk-other:');
    expect(loadEnvironment({}).KEY_PREFIX).toBe('brain:');
  });
});

describe('REDIS_LIVENESS_TIMEOUT_MS', () => {
  it('given nothing, then 10 s; given a value, then that; given less than a second, then it is refused', () => {
    expect(loadEnvironment({}).REDIS_LIVENESS_TIMEOUT_MS).toBe(10_000);
    expect(loadEnvironment({ REDIS_LIVENESS_TIMEOUT_MS: '15000' }).REDIS_LIVENESS_TIMEOUT_MS).toBe(15_000);
    expect(() => loadEnvironment({ REDIS_LIVENESS_TIMEOUT_MS: '999' })).toThrow(/REDIS_LIVENESS_TIMEOUT_MS="999"/);
  });
});

describe('REDIS_CLUSTER_NODES', () => {
  it('given nothing, then it stays unset and REDIS_URL applies', () => {
    expect(loadEnvironment({}).REDIS_CLUSTER_NODES).toBeUndefined();
  });

  it('given a host:port list, then it is kept as written', () => {
    expect(loadEnvironment({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' }).REDIS_CLUSTER_NODES).toBe('127.0.0.1:7000,127.0.0.1:7001');
  });

  it('given a malformed list, then the error shows the value and names the bad entry', () => {
    try {
      loadEnvironment({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'REDIS_CLUSTER_NODES="127.0.0.1:7000,127.0.0.1": REDIS_CLUSTER_NODES entry 2 ("127.0.0.1") is not host:port, e.g. 10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000',
      ]);
    }
  });
});

describe('IDEMPOTENCY_TTL_SECONDS and MAX_MISSION_TEXT_BYTES', () => {
  it('given nothing, then idempotency records live 7 days and mission text is capped at 32 KiB', () => {
    const env = loadEnvironment({});
    expect(env.IDEMPOTENCY_TTL_SECONDS).toBe(604_800);
    expect(env.MAX_MISSION_TEXT_BYTES).toBe(32_768);
  });

  it('given values out of range, then the error names each', () => {
    expect(() => loadEnvironment({ IDEMPOTENCY_TTL_SECONDS: '10' })).toThrow(/IDEMPOTENCY_TTL_SECONDS="10": IDEMPOTENCY_TTL_SECONDS must not be less than 60/);
    expect(() => loadEnvironment({ MAX_MISSION_TEXT_BYTES: 'lots' })).toThrow(/MAX_MISSION_TEXT_BYTES="lots"/);
  });
});

describe('variables that only work together', () => {
  it('given LLM_BASE_URL with user:password@, then it is refused without echoing it', () => {
    // fetch refuses such a URL and names it whole in its error, which went into every failed attempt's error in the log.
    const problems = problemsOf({ LLM_PROVIDER: 'openai', LLM_MODEL: 'llama3', LLM_BASE_URL: 'https://user:s3cret@gw.example/v1' });
    expect(problems).toEqual([
      'LLM_BASE_URL="https://***@gw.example/v1": LLM_BASE_URL must be an http(s) URL without user:password@ (the key goes in LLM_API_KEY)',
    ]);
    expect(problems.join(' ')).not.toContain('s3cret');
    expect(problemsOf({ LLM_PROVIDER: 'openai', LLM_MODEL: 'llama3', LLM_BASE_URL: 'https://gw.example:8443/v1' })).toEqual([]);
  });

  it('given LLM_BASE_URL with a query or fragment, then it is refused, the query not echoed', () => {
    // Taken: the SDK appends /chat/completions to the text, after `?api-version=…`, and every call went to the wrong path.
    for (const [baseUrl, shown] of [
      ['https://gw.example/openai/v1?api-version=2024-10-21', 'https://gw.example/openai/v1?***'],
      ['https://gw.example/v1#chat', 'https://gw.example/v1#***'],
      ['https://gw.example/v1#k=s3cret', 'https://gw.example/v1#***'],
      ['https://gw.example/v1?', 'https://gw.example/v1?***'],
      ['https://gw.example/v1?api-key=s3cret', 'https://gw.example/v1?***'],
    ]) {
      expect(problemsOf({ LLM_PROVIDER: 'openai', LLM_MODEL: 'gpt-4o', LLM_BASE_URL: baseUrl })).toEqual([
        `LLM_BASE_URL="${shown}": LLM_BASE_URL must be an http(s) URL without ?query or #fragment (the client appends /chat/completions to it, which would land inside them)`,
      ]);
    }
  });

  it('given LLM_API_KEY with a line break or other control character, then it is refused without echoing it', () => {
    // Taken: fetch refused the Authorization header, and every call failed as "cannot reach … the response could not be read (TypeError)".
    const llm = { LLM_PROVIDER: 'openai', LLM_MODEL: 'gpt-4o', LLM_BASE_URL: 'https://api.openai.com/v1' };
    for (const key of [
      'sk-secret-value\n',
      'sk-secret\r\nvalue',
      'sk-secret\tvalue',
      'sk-secret\u007fvalue',
      'sk-secret\u0085value',
      'sk-secret-value\u2028',
    ]) {
      const problems = problemsOf({ ...llm, LLM_API_KEY: key });
      expect(problems).toEqual([
        'LLM_API_KEY=(hidden): LLM_API_KEY must not hold a line break, another control character or one beyond Latin-1 (it is sent in an HTTP header, which cannot carry them)',
      ]);
    }
    expect(problemsOf({ ...llm, LLM_API_KEY: 'sk-proj-AbC_123-xyz.456' })).toEqual([]);
  });

  it('given LLM_PROVIDER=openai without LLM_BASE_URL and LLM_MODEL, then one problem names both', () => {
    expect(problemsOf({ LLM_PROVIDER: 'openai', LLM_API_KEY: 'sk-secret-value' })).toEqual([
      expect.stringMatching(/^LLM_PROVIDER="openai" needs LLM_BASE_URL and LLM_MODEL /),
    ]);
  });

  it('given LLM_PROVIDER=openai with only one of them, then the other is named', () => {
    expect(problemsOf({ LLM_PROVIDER: 'openai', LLM_BASE_URL: 'http://127.0.0.1:11434/v1' })).toEqual([expect.stringMatching(/needs LLM_MODEL /)]);
    expect(problemsOf({ LLM_PROVIDER: 'openai', LLM_MODEL: 'llama3' })).toEqual([expect.stringMatching(/needs LLM_BASE_URL /)]);
  });

  it('given LLM_PROVIDER=openai with both, then it loads, and the secret is not echoed anywhere', () => {
    const env = loadEnvironment({ LLM_PROVIDER: 'openai', LLM_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MODEL: 'llama3' });
    expect(env.LLM_MODEL).toBe('llama3');
    expect(problemsOf({ LLM_PROVIDER: 'openai', LLM_API_KEY: 'sk-secret-value' }).join('\n')).not.toMatch(/sk-secret-value/);
  });

  it('given JUDGE=llm with the mock provider, then it is refused, naming the ways out', () => {
    expect(problemsOf({ JUDGE: 'llm' })).toEqual([expect.stringMatching(/JUDGE="llm" with LLM_PROVIDER="mock".*JUDGE_ALLOW_MOCK=true/)]);
  });

  it('given JUDGE=llm with the mock provider and JUDGE_ALLOW_MOCK=true, then it loads', () => {
    expect(loadEnvironment({ JUDGE: 'llm', JUDGE_ALLOW_MOCK: 'true' }).JUDGE).toBe('llm');
  });

  it('given JUDGE=llm with a real provider, then no override is needed', () => {
    expect(loadEnvironment({ JUDGE: 'llm', LLM_PROVIDER: 'openai', LLM_BASE_URL: 'https://api.openai.com/v1', LLM_MODEL: 'gpt-4o-mini' }).JUDGE).toBe('llm');
  });

  it('given URLs no HTTP client takes as written (a port over 65535 or 0, junk after it) or a price table that does not parse, then each is named at start', () => {
    // Each used to pass the start and throw from an exporter or client built later: a stack trace, not exit 78.
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:99999' })).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT="http://otel-collector:99999": OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL',
    ]);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318x' })).toHaveLength(1);
    // The password was printed with the rest; one holding / # ? or a blank, which keeps the URL from parsing, too.
    for (const password of ['s3cretpw', 's3cr/et', 's3c#ret', 's3c?ret', 's3c ret', 's3c\nret'])
      expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://u:${password}@otel-collector:99999` })).toEqual([
        'OTEL_EXPORTER_OTLP_ENDPOINT="http://***@otel-collector:99999": OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL',
      ]);
    // Node's clients took port 0 for "none given" and called port 80.
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:0' })).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT="http://otel-collector:0": OTEL_EXPORTER_OTLP_ENDPOINT must not name port 0',
    ]);
    expect(problemsOf({ LLM_PROVIDER: 'openai', LLM_MODEL: 'm', LLM_BASE_URL: 'http://llm:70000/v1' })).toEqual([
      'LLM_BASE_URL="http://llm:70000/v1": LLM_BASE_URL must be an http(s) URL',
    ]);
    expect(problemsOf({ LLM_PRICES: '{gpt-4o:1}' })).toEqual([expect.stringMatching(/^LLM_PRICES="\{gpt-4o:1\}": price table is not valid JSON/)]);
    expect(problemsOf({ LLM_PRICES: '{"gpt-4o":{"inputPerMillion":-1,"outputPerMillion":1}}' })).toEqual([
      expect.stringMatching(/price table entry "gpt-4o".inputPerMillion must be a non-negative number, got -1$/),
    ]);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', LLM_PRICES: '{"m":{"inputPerMillion":1,"outputPerMillion":2}}' })).toEqual([]);
  });

  it('given blanks or control characters around or inside an http(s) URL variable, then it is refused naming it: the clients use the text as written', () => {
    // The URL parser drops them, so the check passed; the clients then called `/odoo%20/jsonrpc` or `/v1%20/chat/completions`, or threw at start with a stack.
    const login = { ODOO_DB: 'hotel', ODOO_LOGIN: 'brain@hotel.example', ODOO_API_KEY: 'k' };
    const llm = { LLM_PROVIDER: 'openai', LLM_MODEL: 'gpt-4o' };
    const blanks = 'must be an http(s) URL without blanks or control characters, before, after or inside it (a blank in a path is written %20)';
    for (const [name, text] of [
      ['ODOO_URL', 'http://127.0.0.1:42160 '],
      ['ODOO_URL', ' https://proxy.example/odoo'],
      ['LLM_BASE_URL', 'http://127.0.0.1:11434/v1 '],
      ['LLM_BASE_URL', 'http://127.0.0.1:11434/v\t1'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318\n'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318/a b'],
      ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'http://collector:4318/v1/traces\u00a0'],
      ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'http://collector:4318/v1/traces\u0000'],
    ]) {
      expect(problemsOf({ ...login, ...llm, [name]: text })).toEqual([`${name}=${JSON.stringify(text)}: ${name} ${blanks}`]);
    }
    expect(problemsOf({ ...login, ...llm, ODOO_URL: 'http://127.0.0.1:42160', LLM_BASE_URL: 'http://127.0.0.1:11434/v%201' })).toEqual([]);
  });

  it('given OTEL_EXPORTER_OTLP_ENDPOINT with a query or fragment, then it is refused: /v1/traces is appended to it as text', () => {
    // Taken: spans went to `/otel?x=1/v1/traces`, the collector's `/otel` with a query, and were lost.
    for (const [url, shown] of [
      ['http://collector:4318/otel?x=1', 'http://collector:4318/otel?***'],
      ['http://collector:4318/otel#x', 'http://collector:4318/otel#***'],
      ['http://collector:4318/otel?', 'http://collector:4318/otel?***'],
    ]) {
      expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: url })).toEqual([
        `OTEL_EXPORTER_OTLP_ENDPOINT="${shown}": OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL without ?query or #fragment (the client appends /v1/traces to it, which would land inside them)`,
      ]);
    }
    // The traces URL is used as written, nothing appended: a query there reaches the collector.
    expect(problemsOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces?tenant=hotel' })).toEqual([]);
  });

  it('given the standard tracing variables, then the traces URL, resource attributes and batch settings are read, and what cannot work is named at start', () => {
    expect(loadEnvironment({})).toMatchObject({
      OTEL_BSP_SCHEDULE_DELAY: 5_000,
      OTEL_BSP_EXPORT_TIMEOUT: 30_000,
      OTEL_BSP_MAX_QUEUE_SIZE: 2_048,
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 512,
    });
    expect(parseResourceAttributes(' deployment.environment = prod ,service.namespace=hotel%20seeblick')).toEqual({
      'deployment.environment': 'prod',
      'service.namespace': 'hotel seeblick',
    });
    expect(
      problemsOf({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces',
        OTEL_RESOURCE_ATTRIBUTES: 'team=ops',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      }),
    ).toEqual([]);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' })).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="collector:4318": OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL',
    ]);
    expect(problemsOf({ OTEL_RESOURCE_ATTRIBUTES: 'team=ops,team=front-office' })).toEqual([
      'OTEL_RESOURCE_ATTRIBUTES="team=ops,team=front-office": OTEL_RESOURCE_ATTRIBUTES names team twice',
    ]);
    expect(problemsOf({ OTEL_RESOURCE_ATTRIBUTES: 'front office=ops' })).toEqual([
      'OTEL_RESOURCE_ATTRIBUTES="front office=ops": OTEL_RESOURCE_ATTRIBUTES: the key "front office" has a character a key cannot have (a space, a quote, …)',
    ]);
    expect(problemsOf({ OTEL_RESOURCE_ATTRIBUTES: 'team=ops,prod' })).toEqual([
      'OTEL_RESOURCE_ATTRIBUTES="team=ops,prod": OTEL_RESOURCE_ATTRIBUTES must be key=value pairs separated by commas; "prod" is not one',
    ]);
    expect(problemsOf({ OTEL_RESOURCE_ATTRIBUTES: 'team=100%' })).toEqual([
      'OTEL_RESOURCE_ATTRIBUTES="team=100%": OTEL_RESOURCE_ATTRIBUTES: the value of team is not percent-encoded correctly',
    ]);
    expect(problemsOf({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512' })).toEqual([
      'OTEL_BSP_MAX_EXPORT_BATCH_SIZE (512) must not be more than OTEL_BSP_MAX_QUEUE_SIZE (100)',
    ]);
    expect(problemsOf({ OTEL_BSP_EXPORT_TIMEOUT: '0' })).toHaveLength(1);
  });

  it('given ODOO_URL with user:password@, then it is refused without echoing them: the key goes in ODOO_API_KEY', () => {
    // The connector's fetch refused such a URL on every poll and logged it whole, password and all.
    const login = { ODOO_DB: 'hotel', ODOO_LOGIN: 'brain@hotel.example', ODOO_API_KEY: 'k' };
    expect(problemsOf({ ODOO_URL: 'http://admin:pw123@127.0.0.1:1', ...login })).toEqual([
      'ODOO_URL="http://***@127.0.0.1:1": ODOO_URL must be an http(s) URL without user:password@ (the key goes in ODOO_API_KEY)',
    ]);
    expect(problemsOf({ ODOO_URL: 'http://admin:pw123@odoo:99999' })).toEqual(['ODOO_URL="http://***@odoo:99999": ODOO_URL must be an http(s) URL']);
  });

  it('given ODOO_SINCE that is no date-time with its UTC offset, then the start stops naming it; one with an offset is read as that instant', () => {
    // It decides which Odoo records are history: a time read in the wrong zone takes in hours of them, or leaves them out.
    for (const since of ['yesterday', '2026-05-01', '2026-05-01T08:00:00', '2026-02-30T08:00:00Z']) {
      expect(problemsOf({ ODOO_SINCE: since })).toEqual([
        `ODOO_SINCE="${since}": ODOO_SINCE must be an ISO 8601 date-time with its UTC offset (Z or ±hh:mm), e.g. 2026-05-01T18:00:00Z or 2026-05-01T20:00:00+02:00`,
      ]);
    }
    expect(loadEnvironment({ ODOO_SINCE: '2026-05-01T10:00:00+02:00' }).ODOO_SINCE).toBe('2026-05-01T10:00:00+02:00');
    expect(odooSinceOf('2026-05-01T10:00:00+02:00')).toBe(Date.parse('2026-05-01T08:00:00Z'));
    expect(odooSinceOf('')).toBeNull();
  });

  it('given ODOO_URL with a query or fragment, then it is refused: the connector would call the URL without it', () => {
    // Taken: `new URL('jsonrpc', url)` dropped `?db=hotel`, and the connector called another address than the one configured.
    const login = { ODOO_DB: 'hotel', ODOO_LOGIN: 'brain@hotel.example', ODOO_API_KEY: 'k' };
    for (const [url, shown] of [
      ['https://hotel.odoo.com/?db=hotel', 'https://hotel.odoo.com/?***'],
      ['https://proxy.example/odoo#x', 'https://proxy.example/odoo#***'],
      ['https://hotel.odoo.com?', 'https://hotel.odoo.com?***'],
    ]) {
      expect(problemsOf({ ODOO_URL: url, ...login })).toEqual([
        `ODOO_URL="${shown}": ODOO_URL must be an http(s) URL without ?query or #fragment (the client appends /jsonrpc to it, which would land inside them)`,
      ]);
    }
    expect(problemsOf({ ODOO_URL: 'https://proxy.example/odoo/', ...login })).toEqual([]);
  });

  it('given blanks for a name or key that LLM_PROVIDER=openai or ODOO_URL needs, then it counts as missing, as the clients read it', () => {
    expect(problemsOf({ LLM_PROVIDER: 'openai', LLM_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MODEL: ' ' })).toEqual([
      expect.stringMatching(/needs LLM_MODEL /),
    ]);
    expect(problemsOf({ ODOO_URL: 'https://hotel.odoo.com', ODOO_DB: ' ', ODOO_LOGIN: '\t', ODOO_API_KEY: '  ' })).toEqual([
      'ODOO_URL is set, so the Odoo connector needs ODOO_DB, ODOO_LOGIN, ODOO_API_KEY too',
    ]);
  });

  it('given MAX_MISSION_TEXT_BYTES not below BODY_LIMIT_BYTES, then it is refused: the text comes in a body of at most that size', () => {
    expect(problemsOf({ MAX_MISSION_TEXT_BYTES: '1048576' })).toEqual([
      'MAX_MISSION_TEXT_BYTES (1048576) must be less than BODY_LIMIT_BYTES (262144): the mission text comes in a JSON body, which a longer text would take past its limit',
    ]);
    expect(problemsOf({ MAX_MISSION_TEXT_BYTES: '262144' })).toEqual([
      expect.stringMatching(/^MAX_MISSION_TEXT_BYTES \(262144\) must be less than BODY_LIMIT_BYTES/),
    ]);
    expect(problemsOf({ MAX_MISSION_TEXT_BYTES: '1048576', BODY_LIMIT_BYTES: '2097152' })).toEqual([]);
  });

  it('given ODOO_URL without the rest of the Odoo login, then the missing ones are named and the key is not echoed', () => {
    const problems = problemsOf({ ODOO_URL: 'https://hotel.odoo.com', ODOO_API_KEY: 'odoo-secret-key' });
    expect(problems).toEqual([expect.stringMatching(/^ODOO_URL is set, so the Odoo connector needs ODOO_DB, ODOO_LOGIN too$/)]);
    const complete = loadEnvironment({ ODOO_URL: 'https://hotel.odoo.com', ODOO_DB: 'hotel', ODOO_LOGIN: 'brain@hotel.example', ODOO_API_KEY: 'k' });
    expect(complete).toMatchObject({ ODOO_POST_AS: 'note', ODOO_POLL_MS: 30_000 });
    expect(problemsOf({ ODOO_URL: 'ftp://x', ODOO_API_KEY: 'odoo-secret-key' }).join('\n')).not.toMatch(/odoo-secret-key/);
  });

  it('given the webhook variables, then they have their defaults and refuse what they cannot mean', () => {
    expect(loadEnvironment({})).toMatchObject({ WEBHOOK_ALLOWED_HOSTS: '', WEBHOOK_ONLY_ALLOWED_HOSTS: 'false', WEBHOOK_RETRY_PERIOD_SECONDS: 86_400 });
    expect(problemsOf({ WEBHOOK_TIMEOUT_MS: '10', WEBHOOK_ONLY_ALLOWED_HOSTS: 'yes' })).toEqual([
      expect.stringMatching(/^WEBHOOK_ONLY_ALLOWED_HOSTS="yes"/),
      expect.stringMatching(/^WEBHOOK_TIMEOUT_MS="10"/),
    ]);
  });
});

describe('WEBHOOK_ALLOWED_HOSTS', () => {
  it('given host names, addresses and CIDR ranges, then the list is taken as written', () => {
    const list = 'hooks.internal, 127.0.0.1,10.0.0.0/8,[::1],fd00::/8,0.0.0.0/0,::/0,receiver.test,hooks.svc.cluster.local.,';
    expect(loadEnvironment({ WEBHOOK_ALLOWED_HOSTS: list }).WEBHOOK_ALLOWED_HOSTS).toBe(list);
  });

  it.each([
    ['10.0.0.0/33', 'entry 1 ("10.0.0.0/33") is not a CIDR range: the prefix length of an IPv4 range is 0-32, not "33"'],
    ['::::', 'entry 1 ("::::") is neither an IP address, a CIDR range nor a host name'],
    ['127.0.0.1,fd00::/129', 'entry 2 ("fd00::/129") is not a CIDR range: the prefix length of an IPv6 range is 0-128, not "129"'],
    ['10.0.0.0/', 'entry 1 ("10.0.0.0/") is not a CIDR range: the prefix length of an IPv4 range is 0-32, not ""'],
    ['10/8', 'entry 1 ("10/8") is not a CIDR range: "10" is not an IP address'],
    ['hooks.internal:8080', 'entry 1 ("hooks.internal:8080") is not a host name as a URL has it (a URL with it has host "hooks.internal")'],
    ['10', 'entry 1 ("10") is not a host name as a URL has it (a URL with it has host "0.0.0.10")'],
    ['bücher.example', 'entry 1 ("bücher.example") is not a host name as a URL has it (a URL with it has host "xn--bcher-kva.example")'],
    ['*.example.com', 'entry 1 ("*.example.com") is not a host name (letters, digits, - and _ between dots; no wildcards)'],
    ['hooks.internal,-hooks', 'entry 2 ("-hooks") is not a host name (letters, digits, - and _ between dots; no wildcards)'],
  ])('given the malformed entry in %j, then the start is refused, naming the entry', (list, problem) => {
    // Each was taken silently and then matched no webhook URL: the operator found out from refused subscriptions.
    expect(problemsOf({ WEBHOOK_ALLOWED_HOSTS: list })).toEqual([
      expect.stringContaining(`WEBHOOK_ALLOWED_HOSTS=${JSON.stringify(list)}: WEBHOOK_ALLOWED_HOSTS ${problem}`),
    ]);
  });
});

describe('REVIEW_POLICY_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'review-policy-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('given no policy file, then nothing is reviewed; given the fixture, then its four rules load', () => {
    expect(readReviewPolicy(loadEnvironment({}).REVIEW_POLICY_FILE).rules).toEqual([]);
    const env = loadEnvironment({ REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml' });
    expect(readReviewPolicy(env.REVIEW_POLICY_FILE).rules.map((rule) => rule.name)).toEqual([
      'guest-replies',
      'pricing-large-change',
      'pricing-at-rate-bound',
      'maintenance-safety',
    ]);
  });

  it('given no policy file, then the YAML parser is never loaded; given one, then reading it loads the parser', () => {
    countingLoadsOf('yaml', (parserLoads) => {
      const isolated = require('./review-policy-file') as { readReviewPolicy: typeof readReviewPolicy }; // eslint-disable-line @typescript-eslint/no-require-imports
      expect(isolated.readReviewPolicy('').rules).toEqual([]);
      expect(parserLoads()).toBe(0);
      expect(isolated.readReviewPolicy('fixtures/review-policy.yaml').rules).toHaveLength(4);
      expect(parserLoads()).toBe(1);
    });
  });

  it('given a JSON policy, then it loads as well', () => {
    const path = file('policy.json', JSON.stringify({ rules: [{ name: 'all-pricing', type: 'pricing' }] }));
    expect(readReviewPolicy(loadEnvironment({ REVIEW_POLICY_FILE: path }).REVIEW_POLICY_FILE).rules).toEqual([{ name: 'all-pricing', types: ['pricing'] }]);
  });

  it('given a policy with a bad rule, then the start is refused naming the variable, the file and the rule', () => {
    const path = file('bad.yaml', 'rules:\n  - name: pricing-big\n    type: pricing\n    rateChangeAbovePercent: ten\n');
    expect(() => loadEnvironment({ REVIEW_POLICY_FILE: path })).toThrow(ConfigError);
    expect(() => loadEnvironment({ REVIEW_POLICY_FILE: path })).toThrow(
      `REVIEW_POLICY_FILE=${JSON.stringify(path)}: rule 1 ("pricing-big"): "rateChangeAbovePercent" must be a number of at least 0`,
    );
  });

  it('given a missing file or one that is not YAML, then the start is refused naming the file', () => {
    expect(() => loadEnvironment({ REVIEW_POLICY_FILE: join(dir, 'missing.yaml') })).toThrow(/REVIEW_POLICY_FILE=".*missing\.yaml": cannot be read/);
    expect(() => loadEnvironment({ REVIEW_POLICY_FILE: file('broken.yaml', 'rules: [\n') })).toThrow(/broken\.yaml": cannot be read as YAML or JSON/);
  });

  it('given review timing out of range, then it is refused', () => {
    expect(loadEnvironment({}).REVIEW_TIMEOUT_MS).toBe(14_400_000);
    expect(loadEnvironment({}).MAX_REVIEW_ROUNDS).toBe(3);
    expect(() => loadEnvironment({ MAX_REVIEW_ROUNDS: '0' })).toThrow(/MAX_REVIEW_ROUNDS="0"/);
    expect(() => loadEnvironment({ REVIEW_TIMEOUT_MS: '5' })).toThrow(/REVIEW_TIMEOUT_MS="5"/);
  });
});

describe('DATA_KEY_*', () => {
  const dir = mkdtempSync(join(tmpdir(), 'data-key-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('given the master key settings, then production needs one, both at once or a missing file are refused, and secrets are not echoed', () => {
    const secret = 'x'.repeat(40);
    expect(() => loadEnvironment({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production needs a master key for guest data/);
    expect(loadEnvironment({ NODE_ENV: 'production', DATA_KEY_SECRET: secret }).DATA_KEY_SECRET).toBe(secret);
    expect(loadEnvironment({}).DATA_KEY_CACHE_TTL_MS).toBe(30_000);
    expect(() => loadEnvironment({ DATA_KEY_SECRET: secret, DATA_KEY_FILE: file('key', secret) })).toThrow(/DATA_KEY_SECRET or DATA_KEY_FILE, not both/);
    expect(() => loadEnvironment({ DATA_KEY_FILE: join(dir, 'missing-key') })).toThrow(/DATA_KEY_FILE \(".*missing-key"\): does not exist/);
    expect(() => loadEnvironment({ DATA_KEY_PREVIOUS_FILES: file('short-key', 'short') })).toThrow(
      /DATA_KEY_PREVIOUS_FILES entry 1 \(".*short-key"\): holds fewer than 32 characters/,
    );
    expect(loadEnvironment({ NODE_ENV: 'production', DATA_KEY_FILE: file('good-key', secret) }).DATA_KEY_FILE).toContain('good-key');
    // Passed by the check, which trimmed them, and read as written at start: every service crashed with a stack trace.
    for (const padded of ['  ', `${join(dir, 'good-key')} `, ` ${join(dir, 'good-key')}`])
      expect(() => loadEnvironment({ DATA_KEY_FILE: padded })).toThrow(/DATA_KEY_FILE must be a file path without blanks before or after it, or empty/);
    const refused = () => loadEnvironment({ DATA_KEY_SECRET: 'short-secret-value' });
    expect(refused).toThrow(/DATA_KEY_SECRET=\(hidden\): DATA_KEY_SECRET needs at least 32 characters/);
    expect(refused).not.toThrow(/short-secret-value/);
  });

  // The variable was not named, and the read narrowed a file's mode before refusing it, a device's (/dev/null) too.
  it('given a master key file that is short, a directory or not there, then each problem names its variable and a refused file keeps its mode', () => {
    const short = file('loose-short-key', 'short');
    chmodSync(short, 0o644);
    const good = file('listed-good-key', 'x'.repeat(40));
    expect(problemsOf({ DATA_KEY_FILE: short, DATA_KEY_PREVIOUS_FILES: `${good},${dir},${join(dir, 'gone')}` })).toEqual([
      `DATA_KEY_FILE ("${short}"): holds fewer than 32 characters`,
      `DATA_KEY_PREVIOUS_FILES entry 2 ("${dir}"): not a regular file`,
      `DATA_KEY_PREVIOUS_FILES entry 3 ("${join(dir, 'gone')}"): does not exist`,
    ]);
    expect(statSync(short).mode & 0o777).toBe(0o644);
  });

  it('given a master key of blanks, or a previous one short once trimmed as it is used, then it is refused at start, not later', () => {
    expect(problemsOf({ NODE_ENV: 'production', DATA_KEY_SECRET: ' '.repeat(33) })).toEqual([
      'DATA_KEY_SECRET=(hidden): DATA_KEY_SECRET needs at least 32 characters, not only blanks',
    ]);
    const padded = ` ${'p'.repeat(31)} `;
    expect(problemsOf({ DATA_KEY_PREVIOUS_SECRETS: `${'x'.repeat(32)},${padded}` })).toEqual([
      'DATA_KEY_PREVIOUS_SECRETS=(hidden): DATA_KEY_PREVIOUS_SECRETS must be comma-separated secrets of 32+ characters each',
    ]);
    expect(loadEnvironment({ DATA_KEY_PREVIOUS_SECRETS: ` ${'x'.repeat(32)} , ${'y'.repeat(32)}` }).DATA_KEY_PREVIOUS_SECRETS).toContain('y');
  });
});

describe('REDIS_URL in the environment', () => {
  it('given a database that is no whole number, then the service stops on it (78), the URL shown without its password', () => {
    expect(problemsOf({ REDIS_URL: 'redis://:s3cret@127.0.0.1:6379/abc' })).toEqual([
      'REDIS_URL="redis://***@127.0.0.1:6379/abc": REDIS_URL names a database that is not a whole number; give its number as the path, e.g. redis://host:6379/2, or none for database 0',
    ]);
  });

  // Each was shown as REDIS_URL=(hidden), a password or not: the typo could not be seen.
  it('given a refused URL, then it is shown as written, its user-info and query masked, so the mistake shows and no password does', () => {
    const mustLookLike = 'REDIS_URL must look like redis://host:port';
    expect(problemsOf({ REDIS_URL: 'http://127.0.0.1:6379' })).toEqual([`REDIS_URL="http://127.0.0.1:6379": ${mustLookLike}`]);
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379/abc' })).toEqual([
      'REDIS_URL="redis://127.0.0.1:6379/abc": REDIS_URL names a database that is not a whole number; give its number as the path, e.g. redis://host:6379/2, or none for database 0',
    ]);
    expect(problemsOf({ REDIS_URL: 'http://user:s3cret@127.0.0.1:6379' })).toEqual([`REDIS_URL="http://***@127.0.0.1:6379": ${mustLookLike}`]);
    // Without the `//` a URL's user-info follows: the password is still masked.
    expect(problemsOf({ REDIS_URL: 'redis:s3cret@127.0.0.1:6379' })).toEqual([`REDIS_URL="redis:***@127.0.0.1:6379": ${mustLookLike}`]);
    expect(problemsOf({ REDIS_URL: 's3cret@127.0.0.1:6379' })).toEqual([`REDIS_URL="***@127.0.0.1:6379": ${mustLookLike}`]);
    // ioredis takes a password from the query too.
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379/x?password=s3cret' })).toEqual([
      'REDIS_URL="redis://127.0.0.1:6379/x?***": REDIS_URL takes no query parameter but db (here password): ioredis would apply it over the services\' own client settings; the login goes before the host, redis://user:password@host:port',
    ]);
    expect(problemsOf({ REDIS_URL: 'redis://:pa#s3cret/x@127.0.0.1:6379 ' })).toEqual([`REDIS_URL="redis://***@127.0.0.1:6379 ": ${mustLookLike}`]);
  });

  it('given REDIS_URL with a query parameter other than db, then it is refused naming it: ioredis would take it over the client options', () => {
    // Taken: `?keyPrefix=x:` made ioredis prefix every key once more, so keys were split between two layouts.
    for (const name of ['keyPrefix', 'socketTimeout', 'maxRetriesPerRequest', 'lazyConnect']) {
      expect(problemsOf({ REDIS_URL: `redis://127.0.0.1:6379?${name}=x` })).toEqual([
        `REDIS_URL="redis://127.0.0.1:6379?***": REDIS_URL takes no query parameter but db (here ${name}): ioredis would apply it over the services' own client settings`,
      ]);
    }
    // A name that is no option name may be a secret typed after the `?`: not echoed.
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379/2?s3cr3t-value' }).join('\n')).not.toMatch(/s3cr3t/);
    // A bare token reads like a name: only ioredis's option names are shown.
    for (const url of ['redis://127.0.0.1:6379?Q7wLp2ZrX9vKd4TnB8sY', 'redis://127.0.0.1:6379/0?db=1&Q7wLp2ZrX9vKd4TnB8sY=1']) {
      const [problem, ...more] = problemsOf({ REDIS_URL: url });
      expect(more).toEqual([]);
      expect(problem).toMatch(/REDIS_URL takes no query parameter but db: ioredis would apply it/);
      expect(problem).not.toMatch(/Q7wLp2ZrX9vKd4TnB8sY/);
    }
    expect(loadEnvironment({ REDIS_URL: 'redis://127.0.0.1:6379?db=2' }).REDIS_URL).toBe('redis://127.0.0.1:6379?db=2');
  });

  it('given a database number, then it loads; whether the server has it is checked at start (waitForRedis)', () => {
    expect(loadEnvironment({ REDIS_URL: 'redis://127.0.0.1:6379/16' }).REDIS_URL).toBe('redis://127.0.0.1:6379/16');
  });

  it('given REDIS_CLUSTER_NODES and a REDIS_URL naming a database other than 0, then it is refused: a cluster has database 0 only', () => {
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379/2', REDIS_CLUSTER_NODES: '127.0.0.1:7000' })).toEqual([
      'REDIS_URL names database 2, but REDIS_CLUSTER_NODES is set and a Redis Cluster has database 0 only; drop the database from REDIS_URL',
    ]);
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379/0', REDIS_CLUSTER_NODES: '127.0.0.1:7000' })).toEqual([]);
  });
});
