/**
 * The demo's progress when its output is not a terminal (a file, a pipe, CI): cli-progress would
 * print its whole block of bars every couple of seconds and again with each log line, some 26
 * copies in a run. Here each counter is one plain line, now and then while it moves and once when
 * it completes, so the file reads as a log.
 */
export class ProgressLines {
  /** Per counter: when it last printed (or was first seen), and the value and total it printed. */
  private readonly counters = new Map<string, { since: number; printed?: { value: number; total: number } }>();
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
    const counter = this.counters.get(label) ?? { since: at };
    this.counters.set(label, counter);
    if (counter.printed?.value === value && counter.printed.total === total) return;
    const complete = total > 0 && value >= total;
    if (!complete && at - counter.since < this.intervalMs) return;
    counter.since = at;
    counter.printed = { value, total };
    const percent = total > 0 ? Math.floor((value / total) * 100) : 0;
    this.write(`${label.trim()} ${value}/${total} ${percent}% | ${rate}/s`);
  }
}
