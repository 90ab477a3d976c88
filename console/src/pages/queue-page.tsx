import { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { QueueStats } from '@app/mission/browser';
import { api } from '../api';
import { age } from '../format';
import { useLiveEvents, useThrottled } from '../live';
import { ErrorNote, PageTitle, useLoaded } from '../parts';

interface Minute {
  minute: string;
  enqueued: number;
  dequeued: number;
}

/** How often the page reads the queue besides the live events (the chart moves by the minute). */
const POLL_MS = 5_000;
const MINUTES = 30;

export function QueuePage() {
  const { value: stats, error, reload } = useLoaded(() => api<QueueStats>('GET', '/api/missions/queue/stats'), []);
  const throughput = useLoaded(() => api<Minute[]>('GET', `/api/missions/queue/throughput?minutes=${MINUTES}`), []);
  const live = useLiveEvents({}, useThrottled(reload, 1_000));

  useEffect(() => {
    const timer = window.setInterval(() => {
      reload();
      throughput.reload();
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [reload, throughput.reload]);

  return (
    <section aria-labelledby="queue-title">
      <PageTitle live={live}>
        <span id="queue-title">Queue</span>
      </PageTitle>
      <ErrorNote error={error} />
      {stats && (
        <>
          <dl class="tiles">
            {(['critical', 'high', 'normal', 'low'] as const).map((level) => (
              <Tile key={level} name={`Ready · ${level}`} testId={`ready-${level}`}>
                {stats.readyByPriority[level] ?? 0}
              </Tile>
            ))}
            <Tile name="Leased">{stats.leased}</Tile>
            <Tile name="In flight">{stats.inFlight}</Tile>
            <Tile name="Dead-lettered">{stats.deadLettered}</Tile>
            <Tile name="Oldest ready">{oldestAge(stats.ready, stats.oldestReadyAgeMs)}</Tile>
          </dl>
          {/* The review backlog: what a reviewer, who sees this page first, has to do. */}
          <h2>Review backlog</h2>
          <dl class="tiles">
            <Tile name="Awaiting review">{stats.awaitingReview}</Tile>
            <Tile name="Overdue">{stats.reviewsOverdue}</Tile>
            <Tile name="Oldest waiting">{oldestAge(stats.awaitingReview, stats.oldestReviewAgeMs)}</Tile>
          </dl>
          <p>
            <a href="#/review">Go to the Review page</a>
          </p>
          <h2>Throughput</h2>
          <ErrorNote error={throughput.error} />
          {throughput.value && <Chart minutes={throughput.value} />}
        </>
      )}
    </section>
  );
}

/** One figure of the page: its name over it. */
function Tile({ name, testId, children }: { name: string; testId?: string; children: ComponentChildren }) {
  return (
    <div class="tile">
      <dt>{name}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

/** How long the oldest of `count` missions has waited; "—" when none waits (the API's age is 0 then, which read "0 ms", as if one had just come). */
function oldestAge(count: number, ageMs: number): string {
  return count > 0 ? age(ageMs) : '—';
}

/** Missions enqueued and dequeued per minute over the last half hour, as bars. */
function Chart({ minutes }: { minutes: Minute[] }) {
  const width = 360;
  const height = 100;
  const top = Math.max(1, ...minutes.flatMap((minute) => [minute.enqueued, minute.dequeued]));
  const step = width / Math.max(minutes.length, 1);
  const bar = (value: number) => (value / top) * height;
  const total = (field: 'enqueued' | 'dequeued') => minutes.reduce((sum, minute) => sum + minute[field], 0);
  const last = minutes.at(-1);
  const summary = `Last ${minutes.length} minutes: ${total('enqueued')} enqueued, ${total('dequeued')} dequeued; last full minute ${last?.enqueued ?? 0} and ${last?.dequeued ?? 0}`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="none">
        {minutes.map((minute, index) => (
          <g key={minute.minute}>
            <rect class="enqueued" x={index * step} width={Math.max(step / 2 - 1, 1)} y={height - bar(minute.enqueued)} height={bar(minute.enqueued)} />
            <rect
              class="dequeued"
              x={index * step + step / 2}
              width={Math.max(step / 2 - 1, 1)}
              y={height - bar(minute.dequeued)}
              height={bar(minute.dequeued)}
            />
          </g>
        ))}
      </svg>
      <figcaption>
        <span class="key enqueued">enqueued</span> <span class="key dequeued">dequeued</span> per minute, oldest left · {summary} (up to {top} a minute)
      </figcaption>
    </figure>
  );
}
