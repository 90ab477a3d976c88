import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { ReadyQueue } from '@app/mission-queue';
import { TimeToSuccessMetric } from '@app/pipeline';
import { MetricsRegistry } from '@app/runtime';

/**
 * Reviews in /metrics: the inbox's gauges, read from Redis at scrape time and shared by every
 * intake, and what this instance's reviewers decided.
 */
@Injectable()
export class ReviewMetrics {
  readonly overdue: Counter<'type'>;
  /** Missions a reviewer's approval made succeed; the evaluator observes the others. */
  readonly timeToSuccess: TimeToSuccessMetric;

  constructor(registry: MetricsRegistry, queue: ReadyQueue) {
    this.timeToSuccess = new TimeToSuccessMetric(registry);
    this.overdue = new Counter({
      name: 'brain_reviews_overdue_total',
      help: 'Reviews this intake instance found overdue (MissionReviewOverdue), by mission type',
      labelNames: ['type'],
      registers: [registry],
    });
    new Gauge({
      name: 'brain_reviews_waiting',
      help: 'Missions awaiting a reviewer, and of those the ones found overdue (shared across intake instances)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const stats = await queue.stats();
        this.set({ state: 'waiting' }, stats.awaitingReview);
        this.set({ state: 'overdue' }, stats.reviewsOverdue);
      },
    });
    new Gauge({
      name: 'brain_review_oldest_age_seconds',
      help: 'How long the longest-waiting review has waited; 0 when none waits',
      registers: [registry],
      async collect() {
        this.set((await queue.stats()).oldestReviewAgeMs / 1000);
      },
    });
  }
}
