/** How often a process repeats that its span exports fail, while they go on failing: once a minute. */
export const EXPORT_FAILURE_LOG_INTERVAL_MS = 60_000;

/** Where the lines go: the service's log. */
export interface ExportFailureLogLines {
  warn(message: string): void;
  log(message: string): void;
}

/** An error of the OTLP exporter: its HTTP status (OTLPExporterError), or a network error's (`ECONNREFUSED`). */
interface ExporterError extends Error {
  code?: number | string;
}

/**
 * Why an export failed, as the exporter says it: `HTTP 500 Internal Server Error`, `connect
 * ECONNREFUSED 127.0.0.1:4318`, `Request timed out`. Never the response body (OTLPExporterError's
 * `data`), which a collector may fill with anything.
 */
function exportFailureReason(error: ExporterError | undefined): string {
  if (!error) return 'the exporter gave no reason';
  if (typeof error.code === 'number') return `HTTP ${error.code}${error.message ? ` ${error.message}` : ''}`;
  return error.message || error.name;
}

function batches(count: number): string {
  return count === 1 ? '1 span batch' : `${count} span batches`;
}

/**
 * The span exports of one process, in its log: without it a collector that is down, refuses, or
 * answers 500 dropped every batch in silence (the SDK reports through its diag logger, which the
 * services leave off: it prints much else). One `warn` at the first failed batch, then at most one
 * per EXPORT_FAILURE_LOG_INTERVAL_MS while they go on failing, each with the last reason and how
 * many batches were dropped since the line before; one `log` (info) when a batch goes out again.
 * The endpoint is named by its origin alone: its path or query may hold a tenant's token.
 */
export class ExportFailureLog {
  private readonly origin: string;
  private failing = false;
  private droppedSinceLine = 0;
  /** When the last warn was said: the next comes intervalMs later at the earliest, whether or not exports worked in between. */
  private lineAt = -Infinity;

  constructor(
    tracesUrl: string,
    private readonly lines: ExportFailureLogLines,
    private readonly intervalMs = EXPORT_FAILURE_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.origin = new URL(tracesUrl).origin;
  }

  failed(error: ExporterError | undefined): void {
    this.droppedSinceLine += 1;
    // A collector that fails and recovers by turns would otherwise be a warn and an info per batch.
    if (this.now() - this.lineAt < this.intervalMs) return;
    const since = this.failing || this.droppedSinceLine > 1 ? 'the last such line' : 'exports last worked';
    this.lines.warn(
      `span export to ${this.origin} failed (${exportFailureReason(error)}): ${batches(this.droppedSinceLine)} dropped since ${since}; next such line in ${this.intervalMs / 1000} s at the earliest`,
    );
    this.failing = true;
    this.droppedSinceLine = 0;
    this.lineAt = this.now();
  }

  succeeded(): void {
    if (!this.failing) return;
    const since = this.droppedSinceLine > 0 ? `, ${batches(this.droppedSinceLine)} dropped since the last failure line` : '';
    this.lines.log(`span export to ${this.origin} works again${since}`);
    this.failing = false;
    this.droppedSinceLine = 0;
  }
}
