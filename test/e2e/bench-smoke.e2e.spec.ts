import { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { BenchOptions, DEFAULT_OPTIONS } from '../../scripts/bench/options';
import { formatReport } from '../../scripts/bench/report';
import { BenchReport, runBench } from '../../scripts/bench/run-bench';
import { SERVICES } from '../../scripts/bench/rss';
import { redisUrl } from '@app/testing';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

/**
 * A smoke check of the bench's measuring and reporting code (scripts/bench/run-bench.ts), not a
 * timed test: the four services run in this process (no build needed), every phase runs with tiny
 * numbers, and no figure is held against a threshold.
 */
const TINY: BenchOptions = {
  ...DEFAULT_OPTIONS,
  missions: 200,
  submitBatch: 100,
  rate: 50,
  duration: 2,
  httpSeconds: 1,
  httpConnections: 4,
  replayEvents: 600,
  // In-process: no helper process, whatever is built.
  syntheticWriter: 'append',
  footprintSample: 50,
  stallTimeoutS: 15,
  phaseTimeoutS: 25,
  smoke: true,
};

const JSON_KEYS = [
  'http_creates_per_s',
  'http_p99_ms',
  'latency_ms',
  'missions_per_s',
  'rebuild_events_per_s',
  'redis_bytes_per_mission',
  'rss_mb',
  'verify_events_per_s',
];

describe('bench smoke (in-process services, real Redis)', () => {
  let system: InProcessSystem;
  let report: BenchReport;
  // The bench measures one Redis server (MEMORY USAGE, its pid's CPU): a plain client, as `npm run bench` uses.
  const redis = new Redis(redisUrl());

  beforeAll(async () => {
    system = await startInProcessSystem('bench-smoke');
    await system.intake.listen(0, '127.0.0.1');
    const { port } = system.intake.getHttpServer().address() as AddressInfo;
    report = await runBench(
      {
        redis,
        keyPrefix: system.prefix,
        http: { baseUrl: `http://127.0.0.1:${port}`, apiKey: TEST_KEYS.submitter, operatorKey: TEST_KEYS.operator },
        pids: () => Object.fromEntries(SERVICES.map((service) => [service, process.pid])),
        mode: 'in-process',
      },
      TINY,
    );
  }, 240_000);

  afterAll(async () => {
    await system?.close();
    await redis.quit();
  });

  it('when a tiny run ends, then its JSON line has exactly the agreed keys, each a finite number', () => {
    const line = JSON.parse(JSON.stringify(report.summary)) as Record<string, unknown>;
    expect(Object.keys(line).sort()).toEqual(JSON_KEYS);
    expect(Object.keys(line.latency_ms as object).sort()).toEqual(['p50', 'p95', 'p99']);
    expect(Object.keys(line.rss_mb as object).sort()).toEqual([...SERVICES].sort());
    const leaves = (value: unknown, path: string): [string, unknown][] =>
      typeof value === 'object' && value !== null
        ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, path ? `${path}.${key}` : key))
        : [[path, value]];
    const notFinite = leaves(line, '').filter(([, value]) => typeof value !== 'number' || !Number.isFinite(value));
    expect({ notFinite, skipped: report.skipped }).toEqual({ notFinite: [], skipped: {} });
  });

  it('when the phases ran, then every mission of the throughput and latency phases succeeded and the logs verified', () => {
    expect(report.throughput).toMatchObject({ missions: 200, succeeded: 200, deadLettered: 0 });
    expect(report.latency).toMatchObject({ missions: 100, succeeded: 100, deadLettered: 0 });
    expect(report.http?.ok2xx).toBeGreaterThan(0);
    expect(report.footprint?.sampled).toBe(50);
    expect(report.replayRun?.verifyOk).toBe(true);
    expect(report.replaySynthetic?.verifyOk).toBe(true);
    expect(report.syntheticLog?.events).toBeGreaterThanOrEqual(600);
  });

  it('when the report is formatted, then it names every headline figure', () => {
    const text = formatReport(report);
    for (const figure of ['missions/s', 'latency p99 ms', 'HTTP creates/s', 'rebuild events/s', 'Redis bytes / finished mission', 'peak RSS MB']) {
      expect(text).toContain(figure);
    }
  });
});
