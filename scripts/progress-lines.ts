/** One counter's state in ProgressLines. */
interface CounterState {
  since: number;
  printed?: { value: number; total: number };
  latest: { value: number; total: number; rate: string };
}

/**
 * The demo's progress when its output is not a terminal (a file, a pipe, CI): cli-progress would
 * print its whole block of bars every couple of seconds and again with each log line, some 26
 * copies in a run. Here each counter is one plain line, now and then while it moves and once when
 * it completes (or when the demo stops it first: flush), so the file reads as a log.
 */
export class ProgressLines {
  /** Per counter: when it last printed (or was first seen), the value and total it printed, and its latest update. */
  private readonly counters = new Map<string, CounterState>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly write: (line: string) => void,
    options: { intervalMs?: number; now?: () => number } = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** `label` at `value` of `total`, going at `rate` per second: printed if it completed or the interval has passed, and changed. */
  update(label: string, value: number, total: number, rate: string): void {
    const at = this.now();
    const counter = this.counters.get(label) ?? { since: at, latest: { value, total, rate } };
    this.counters.set(label, counter);
    counter.latest = { value, total, rate };
    if (printedLatest(counter)) return;
    const complete = total > 0 && value >= total;
    if (!complete && at - counter.since < this.intervalMs) return;
    counter.since = at;
    this.print(label, counter);
  }

  /**
   * Prints each counter whose latest value it has not printed yet, for when the demo stops its
   * counters before they complete (its timeout, Ctrl-C): the log ends on the counts reached, not on
   * those of up to an interval before.
   */
  flush(): void {
    for (const [label, counter] of this.counters) if (!printedLatest(counter)) this.print(label, counter);
  }

  private print(label: string, counter: CounterState): void {
    const { value, total, rate } = counter.latest;
    counter.printed = { value, total };
    const percent = total > 0 ? Math.floor((value / total) * 100) : 0;
    this.write(`${label.trim()} ${value}/${total} ${percent}% | ${rate}/s`);
  }
}

function printedLatest(counter: CounterState): boolean {
  return counter.printed?.value === counter.latest.value && counter.printed.total === counter.latest.total;
}
