import { ExportResult, ExportResultCode } from '@opentelemetry/core';
import { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { ExportFailureLog } from './export-failure-log';

/**
 * The OTLP exporter, with each batch's result told to the process' ExportFailureLog: the one place
 * that sees an export fail (the BatchSpanProcessor only hands the error to the SDK's diag logger).
 */
export class ReportingSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly failures: ExportFailureLog,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      // The batch processor waits on the callback: a log line that throws must not hold it.
      try {
        if (result.code === ExportResultCode.SUCCESS) this.failures.succeeded();
        else this.failures.failed(result.error);
      } finally {
        resultCallback(result);
      }
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
