import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { SERVICE_NAMES } from '@app/messages';
import { escapeGlob, scanKeys } from '@app/redis';
import { redisUrl, testRedis } from '@app/testing';
import { BenchOptions, DEFAULT_OPTIONS } from '../../scripts/bench/options';
import { formatReport } from '../../scripts/bench/report';
import { BenchReport, guestDataPrefix, peerPrefix, runBench } from '../../scripts/bench/run-bench';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

/**
 * A smoke check of the bench's measuring and reporting code (scripts/bench/run-bench.ts), not a
 * timed test: the four services run in this process (no build needed), every phase and every peer
 * runs with tiny numbers, and no figure is held against a threshold.
 */
const TINY: BenchOptions = {
  ...DEFAULT_OPTIONS,
  missions: 200,
  submitBatch: 100,
  rate: 50,
  duration: 2,
  httpSeconds: 1,
  httpConnections: 4,
  // A count, not the one-second window: a CI run once answered no create within it (the other
  // Jest worker busy starting services), and a ratio of 0 fails the check below.
  httpRequests: 40,
  replayEvents: 600,
  footprintSample: 50,
  stallTimeoutS: 15,
  phaseTimeoutS: 25,
  smoke: true,
};

const JSON_KEYS = [
  'guest_data',
  'guest_data_cpu_ms_per_mission',
  'http_creates_per_s',
  'http_p99_ms',
  'latency_ms',
  'missions_per_s',
  'mode',
  'peers',
  'ratios',
  'rebuild_events_per_s',
  'redis_bytes_per_mission',
  'redis_cpu_ms_per_mission',
  'rss_mb',
  'services_cpu_ms_per_mission',
  'verify_events_per_s',
];

const PEERS_DIR = path.join(__dirname, '..', '..', 'scripts', 'bench', 'peers');

/** The peer processes are forked from compiled files: compiled here, as `npm run build` would, into a scratch directory. */
function compilePeers(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-peers-'));
  for (const name of ['bullmq-stage', 'bare-http']) {
    const source = readFileSync(path.join(PEERS_DIR, `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(path.join(dir, `${name}.js`), outputText);
  }
  return dir;
}

describe('bench smoke (in-process services, real Redis)', () => {
  let system: InProcessSystem;
  let report: BenchReport;
  let peerDir: string;
  // The bench measures one Redis server (MEMORY USAGE, INFO cpu): a plain client, as `npm run bench` uses.
  const redis = testRedis();
  const nodePath = process.env.NODE_PATH;

  beforeAll(async () => {
    peerDir = compilePeers();
    // The scratch directory has no node_modules of its own: the forked peers find bullmq and ioredis through NODE_PATH.
    process.env.NODE_PATH = path.join(__dirname, '..', '..', 'node_modules');
    system = await startInProcessSystem('bench-smoke');
    await system.intake.listen(0, '127.0.0.1');
    const { port } = system.intake.getHttpServer().address() as AddressInfo;
    report = await runBench(
      {
        redis,
        redisUrl: redisUrl(),
        keyPrefix: system.prefix,
        http: { baseUrl: `http://127.0.0.1:${port}`, apiKey: TEST_KEYS.submitter, operatorKey: TEST_KEYS.operator },
        pids: () => Object.fromEntries(SERVICE_NAMES.map((service) => [service, process.pid])),
        mode: 'one-process',
        guestData: 'on',
        peerDir,
      },
      TINY,
    );
  }, 240_000);

  afterAll(async () => {
    if (nodePath === undefined) delete process.env.NODE_PATH;
    else process.env.NODE_PATH = nodePath;
    rmSync(peerDir, { recursive: true, force: true });
    await system?.close();
    await redis.quit();
  });

  it('when a tiny run ends, then its JSON line has exactly the agreed keys, each a finite number', () => {
    const line = JSON.parse(JSON.stringify(report.summary)) as Record<string, unknown>;
    expect(Object.keys(line).sort()).toEqual(JSON_KEYS);
    expect(line.mode).toBe('one-process');
    expect(line.guest_data).toBe('on');
    expect(Object.keys(line.latency_ms as object).sort()).toEqual(['p50', 'p95', 'p99']);
    expect(Object.keys(line.rss_mb as object).sort()).toEqual([...SERVICE_NAMES].sort());
    const leaves = (value: unknown, at: string): [string, unknown][] =>
      typeof value === 'object' && value !== null ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, at ? `${at}.${key}` : key)) : [[at, value]];
    const notFinite = leaves(line, '').filter(
      ([key, value]) => key !== 'mode' && key !== 'guest_data' && (typeof value !== 'number' || !Number.isFinite(value)),
    );
    expect({ notFinite, skipped: report.skipped }).toEqual({ notFinite: [], skipped: {} });
  });

  it('when the peers ran, then each peer figure and each ratio is a positive number', () => {
    const { peers, ratios } = report.summary;
    const figures = {
      'bullmq.missions_per_s': peers.bullmq.missions_per_s,
      'bullmq.p99_ms': peers.bullmq.p99_ms,
      'bullmq.redis_bytes_per_mission': peers.bullmq.redis_bytes_per_mission,
      'bullmq.redis_cpu_ms_per_mission': peers.bullmq.redis_cpu_ms_per_mission,
      'bare_http.creates_per_s': peers.bare_http.creates_per_s,
      'raw_read.events_per_s': peers.raw_read.events_per_s,
      ...ratios,
    };
    const notPositive = Object.entries(figures).filter(([, value]) => typeof value !== 'number' || !(value > 0));
    expect(notPositive).toEqual([]);
    // autocannon keeps whole milliseconds: the bare server's p99 on loopback may well be 0.
    expect(peers.bare_http.p99_ms).toBeGreaterThanOrEqual(0);
    expect(report.peers.bullmqThroughput?.missions).toBe(200);
    expect(report.peers.bullmqLatency?.latency.count).toBe(100);
    expect(report.peers.rawRead?.events).toBe(report.syntheticLog?.events);
  });

  it('when the peers have stopped, then none of their keys is left in Redis', async () => {
    const left: string[] = [];
    for await (const keys of scanKeys(redis, `${escapeGlob(peerPrefix(system.prefix))}*`)) left.push(...keys);
    expect(left).toEqual([]);
  });

  it('when the guest-data phase ran, then it measured every service over the fixtures with subjects, and left none of its keys', async () => {
    expect(report.guestData).toMatchObject({ missions: 200 });
    expect(report.guestData?.withSubjects).toBeGreaterThan(0);
    expect(report.guestData?.withSubjects).toBeLessThan(200);
    const { intake, executor, evaluator, total } = report.guestData?.msPerMission ?? { intake: 0, executor: 0, evaluator: 0, total: 0 };
    expect(Math.min(intake, executor, evaluator)).toBeGreaterThan(0);
    expect(total).toBeCloseTo(intake + executor + evaluator, 9);
    const left: string[] = [];
    for await (const keys of scanKeys(redis, `${escapeGlob(guestDataPrefix(system.prefix))}*`)) left.push(...keys);
    expect(left).toEqual([]);
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

  it('when the report is formatted, then it names every headline figure and its peer', () => {
    const text = formatReport(report);
    for (const figure of [
      'missions/s',
      'latency p99 ms',
      'HTTP creates/s',
      'rebuild events/s',
      'Redis bytes / finished mission',
      'peak RSS MB',
      'BullMQ',
      'Bare HTTP peer',
      'Raw read peer',
    ]) {
      expect(text).toContain(figure);
    }
  });
});
