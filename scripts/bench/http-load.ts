import { MissionFactory } from './missions';
import { BenchAborted } from './stats';
import type { BenchUi } from './ui';

/** The parts of autocannon 8 the bench uses (the package ships no types). */
interface AutocannonResult {
  latency: { p50: number; p99: number; max: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats?: Record<string, { count: number }>;
}
type Autocannon = (
  options: Record<string, unknown> & {
    requests: { method: string; path: string; setupRequest: (request: Record<string, unknown>) => Record<string, unknown> }[];
  },
  callback: (error: Error | null, result: AutocannonResult) => void,
) => { stop(): void; on(event: 'tick', listener: (counter: { counter: number }) => void): void };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

export interface HttpResult {
  connections: number;
  seconds: number;
  /** 2xx responses per second over the run. */
  createsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  ok2xx: number;
  non2xx: number;
  /** Counts by status code, e.g. {"201": 30000, "429": 12}. */
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
}

/**
 * POST /api/missions under autocannon: `connections` keep-alive connections, each sending the
 * next request as soon as the last answered, every body a valid mission with an ERP record of its
 * own (a repeat would be a cheap 200 instead of a create). The same load for the system and its peer.
 */
export async function measureHttp(
  baseUrl: string,
  apiKey: string,
  factory: MissionFactory,
  options: { seconds: number; connections: number; requests?: number; signal?: AbortSignal },
  ui: BenchUi,
): Promise<HttpResult> {
  if (options.signal?.aborted) throw new BenchAborted();
  await warmUp(baseUrl, apiKey, factory);
  const bar = ui.bar('http', options.seconds, 's');
  let ticks = 0;
  try {
    const result = await new Promise<AutocannonResult>((resolve, reject) => {
      const onAbort = () => instance.stop();
      const instance = autocannon(
        {
          url: baseUrl,
          connections: options.connections,
          duration: options.seconds,
          ...(options.requests === undefined ? {} : { amount: options.requests }),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          requests: [{ method: 'POST', path: '/api/missions', setupRequest: (request) => ({ ...request, body: JSON.stringify(factory.mission()) }) }],
        },
        (error, finished) => {
          options.signal?.removeEventListener('abort', onAbort);
          if (options.signal?.aborted) reject(new BenchAborted());
          else if (error) reject(error);
          else resolve(finished);
        },
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      instance.on('tick', ({ counter }) => bar.update(Math.min(++ticks, options.seconds), `${counter} req/s`));
    });
    const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]));
    const ok2xx = Number(result['2xx'] ?? 0);
    return {
      connections: options.connections,
      seconds: result.duration,
      createsPerSecond: ok2xx / result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      ok2xx,
      non2xx: Number(result.non2xx ?? 0),
      statusCodes,
      errors: Number(result.errors ?? 0),
      timeouts: Number(result.timeouts ?? 0),
    };
  } finally {
    bar.stop();
  }
}

/**
 * One create before the clock starts: the first request pays for code the earlier phases never
 * ran (routing, validation, the HTTP parser), which a short window would count as the server's
 * speed; and a refused create stops the phase with its answer instead of a rate of 0/s.
 */
async function warmUp(baseUrl: string, apiKey: string, factory: MissionFactory): Promise<void> {
  const response = await fetch(new URL('/api/missions', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(factory.mission()),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`http: the warm-up create was answered ${response.status}: ${body.slice(0, 300)}`);
}
