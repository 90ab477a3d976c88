import Module from 'node:module';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import { loadEnvironment } from '@app/config';
import { OtlpReceiver } from '@app/testing';
import { ensureBuilt } from '../../../scripts/build-stamp';
import type * as ExportFailureLogModule from './export-failure-log';
import type * as ProcessTracingModule from './process-tracing';
import type * as TracingSdkModule from './tracing-sdk';

const ROOT = join(__dirname, '../../..');
if (ensureBuilt(ROOT) !== 0) throw new Error('npm run build failed');
/*
 * The built files, through Node's own loader (not Jest's require, nor its createRequire, which load
 * into Jest's registry again): the OTLP exporter loads node:http with import(), which Jest's registry
 * refuses without --experimental-vm-modules, so every export would fail for that reason alone. The
 * e2e spec avoids it by launching the built services as processes; here the exporter runs in-process
 * so that the log's clock can be faked.
 */
const nodeLoader = Module as unknown as { _load(request: string, parent: null, isMain: boolean): unknown };
const builtRequire = (file: string): unknown => nodeLoader._load(join(ROOT, 'dist/libs/tracing/src', file), null, false);
const { ExportFailureLog } = builtRequire('./export-failure-log') as typeof ExportFailureLogModule;
const { tracesUrl } = builtRequire('./process-tracing') as typeof ProcessTracingModule;
const { createProvider } = builtRequire('./tracing-sdk') as typeof TracingSdkModule;

const INTERVAL_MS = 60_000;

/** An export waits this long before it gives up retrying a refused connection (default 10 s). */
const EXPORT_TIMEOUT = 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT';
/** The process' own environment, which the built exporter reads: Jest gives the spec a copy of it. */
const exporterEnv = (nodeLoader._load('process', null, false) as NodeJS.Process).env;

/** A port nothing listens on: a collector's, once it stopped. */
async function closedEndpoint(): Promise<string> {
  const gone = new OtlpReceiver();
  const endpoint = await gone.start();
  await gone.stop();
  return endpoint;
}

describe('ExportFailureLog, with the OTLP exporter and a collector on loopback', () => {
  let now: number;
  let lines: string[];
  let providers: TracerProvider[];

  beforeEach(() => {
    now = 1_000;
    lines = [];
    providers = [];
    exporterEnv[EXPORT_TIMEOUT] = '500';
  });

  afterEach(async () => {
    delete exporterEnv[EXPORT_TIMEOUT];
    await Promise.all(providers.map((provider) => provider.shutdown().catch(() => undefined)));
  });

  /** A provider exporting to `endpoint` (a path that holds a token), its failures told to a log with a fake clock. */
  function exportingTo(endpoint: string): { exportBatch: () => Promise<void> } {
    const env = loadEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: `${endpoint}/tenant/tok_secret`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const log = new ExportFailureLog(
      tracesUrl(env),
      { warn: (line) => lines.push(`warn: ${line}`), log: (line) => lines.push(`info: ${line}`) },
      INTERVAL_MS,
      () => now,
    );
    const provider = createProvider(env, 'intake', log);
    providers.push(provider);
    const tracer = provider.getTracer('spec');
    return {
      // One span, flushed: one batch, whose export has ended (failed or not) when this resolves.
      exportBatch: async () => {
        tracer.startSpan('work', { kind: SpanKind.INTERNAL }).end();
        await provider.forceFlush().catch(() => undefined);
      },
    };
  }

  it('given a collector answering 500, then one warn per interval however many batches fail, naming its origin, the status and the dropped batches; then one info when it answers 200', async () => {
    const collector = new OtlpReceiver({ path: '/tenant/tok_secret/v1/traces', status: 500 });
    const endpoint = await collector.start();
    try {
      const { exportBatch } = exportingTo(endpoint);
      for (let batch = 0; batch < 5; batch++) {
        await exportBatch();
        now += 10_000;
      }
      expect(collector.spans).toHaveLength(5);
      expect(lines).toEqual([
        `warn: span export to ${endpoint} failed (HTTP 500 Internal Server Error): 1 span batch dropped since exports last worked; next such line in 60 s at the earliest`,
      ]);

      now += 10_000;
      await exportBatch();
      expect(lines.slice(1)).toEqual([
        `warn: span export to ${endpoint} failed (HTTP 500 Internal Server Error): 5 span batches dropped since the last such line; next such line in 60 s at the earliest`,
      ]);

      collector.status = 200;
      await exportBatch();
      await exportBatch();
      expect(lines.slice(2)).toEqual([`info: span export to ${endpoint} works again`]);
      expect(lines.join('\n')).not.toContain('tok_secret');
    } finally {
      await collector.stop();
    }
  });

  it('given a collector that fails and recovers by turns, then still one warn per interval, and one info for the recovery after it', async () => {
    const collector = new OtlpReceiver({ path: '/tenant/tok_secret/v1/traces', status: 500 });
    const endpoint = await collector.start();
    try {
      const { exportBatch } = exportingTo(endpoint);
      for (let turn = 0; turn < 5; turn++) {
        collector.status = 500;
        await exportBatch();
        collector.status = 200;
        now += 5_000;
        await exportBatch();
        now += 5_000;
      }
      expect(lines).toEqual([
        `warn: span export to ${endpoint} failed (HTTP 500 Internal Server Error): 1 span batch dropped since exports last worked; next such line in 60 s at the earliest`,
        `info: span export to ${endpoint} works again`,
      ]);

      now += 20_000;
      collector.status = 500;
      await exportBatch();
      expect(lines.slice(2)).toEqual([
        `warn: span export to ${endpoint} failed (HTTP 500 Internal Server Error): 5 span batches dropped since the last such line; next such line in 60 s at the earliest`,
      ]);
    } finally {
      await collector.stop();
    }
  });

  it('given a collector that refuses the connection, then the warn says so', async () => {
    const endpoint = await closedEndpoint();
    const { exportBatch } = exportingTo(endpoint);
    await exportBatch();
    await exportBatch();
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^warn: span export to ${endpoint} failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+\\): 1 span batch dropped`)),
    ]);
  });
});
