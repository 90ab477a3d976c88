import { Counter, Gauge, Registry } from 'prom-client';
import { RedisConnection } from '@app/redis';
import { ConnectorKeys } from './connector-keys';
import { hasFailed } from './odoo-write-back';

/** The connector's figures in /metrics; pending, failing and abandoned write-backs are read from Redis at scrape time. */
export class ConnectorMetrics {
  private readonly submitted: Counter;
  private readonly pollFailures: Counter;
  private readonly posted: Counter;
  private readonly writeBackFailures: Counter;
  private readonly refusalNoteFailures: Counter;

  constructor(registry: Registry, redis: RedisConnection, keys: ConnectorKeys) {
    this.submitted = new Counter({
      name: 'brain_odoo_missions_submitted_total',
      help: 'Odoo records this instance submitted as missions',
      registers: [registry],
    });
    this.pollFailures = new Counter({
      name: 'brain_odoo_poll_failures_total',
      help: 'Polls of Odoo that failed (down, timed out, refused)',
      registers: [registry],
    });
    this.posted = new Counter({ name: 'brain_odoo_results_posted_total', help: 'Mission results this instance posted to Odoo chatter', registers: [registry] });
    this.writeBackFailures = new Counter({
      name: 'brain_odoo_write_back_failures_total',
      help: 'Write-back attempts that failed (each is retried)',
      registers: [registry],
    });
    this.refusalNoteFailures = new Counter({
      name: 'brain_odoo_refusal_note_failures_total',
      help: 'Refusal notes that could not be posted to a record (each is tried again next poll)',
      registers: [registry],
    });
    new Gauge({
      name: 'brain_odoo_records_refused',
      help: 'Odoo records set aside because their mission was refused (GET /connector/refused lists them)',
      registers: [registry],
      async collect() {
        this.set(await redis.hlen(keys.refused));
      },
    });
    new Gauge({
      name: 'brain_odoo_write_backs_pending',
      help: 'Write-backs queued and not made yet',
      registers: [registry],
      async collect() {
        this.set(await redis.zcard(keys.due));
      },
    });
    new Gauge({
      name: 'brain_odoo_write_backs_abandoned',
      help: 'Write-backs given up because their record is gone from Odoo (GET /connector/write-backs/abandoned lists them)',
      registers: [registry],
      async collect() {
        this.set(await redis.hlen(keys.abandoned));
      },
    });
    new Gauge({
      name: 'brain_odoo_write_backs_failing',
      help: 'Write-backs that have failed and are being retried (GET /connector/write-backs lists them)',
      registers: [registry],
      async collect() {
        // Not a stage change still to make with its post that has not failed (hasFailed), as the listing.
        this.set((await redis.hvals(keys.failures)).filter(hasFailed).length);
      },
    });
  }

  polled(submitted: number): void {
    this.submitted.inc(submitted);
  }
  pollFailed(): void {
    this.pollFailures.inc();
  }
  resultPosted(): void {
    this.posted.inc();
  }
  writeBackFailed(): void {
    this.writeBackFailures.inc();
  }
  refusalNoteFailed(): void {
    this.refusalNoteFailures.inc();
  }
}
