import { MultiBar, SingleBar } from 'cli-progress';

/** A progress bar of one phase. */
export interface Bar {
  update(value: number, detail?: string): void;
  /** Adjusts the total (e.g. when the HTTP phase's mission count becomes known). */
  setTotal(total: number): void;
  stop(): void;
}

/** Where the bench reports while it runs; the CLI draws bars on stderr, the smoke test stays quiet. */
export interface BenchUi {
  /** A status line (not part of the results). */
  log(line: string): void;
  bar(label: string, total: number, unit?: string): Bar;
}

export const silentUi: BenchUi = {
  log: () => undefined,
  bar: () => ({ update: () => undefined, setTotal: () => undefined, stop: () => undefined }),
};

/**
 * Progress bars on stderr (stdout carries only the results table and the JSON line). Lines logged
 * while a bar is drawn go through the bars' log buffer so they appear above it instead of tearing it.
 */
export class TerminalUi implements BenchUi {
  private bars: MultiBar | undefined;
  private active = 0;
  private readonly stream = process.stderr;

  log(line: string): void {
    if (this.bars) this.bars.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  bar(label: string, total: number, unit = 'missions'): Bar {
    const tty = Boolean(this.stream.isTTY);
    this.bars ??= new MultiBar({
      stream: this.stream,
      format: '{label} [{bar}] {value}/{total} ' + '{unit} | {percentage}% | {detail}',
      barCompleteChar: '#',
      barIncompleteChar: '.',
      hideCursor: tty,
      noTTYOutput: !tty,
      notTTYSchedule: 2_000,
      gracefulExit: false,
      forceRedraw: true,
      clearOnComplete: false,
      etaBuffer: 50,
    });
    const bars = this.bars;
    const bar: SingleBar = bars.create(Math.max(1, total), 0, { label: label.padEnd(14), detail: '', unit });
    this.active += 1;
    let stopped = false;
    return {
      update: (value, detail = '') => bar.update(value, { detail }),
      setTotal: (next) => bar.setTotal(Math.max(1, next)),
      stop: () => {
        if (stopped) return;
        stopped = true;
        bar.stop();
        this.active -= 1;
        if (this.active === 0) this.close();
      },
    };
  }

  /** Ends any bars still drawn (Ctrl-C, an error). */
  close(): void {
    if (!this.bars) return;
    this.bars.update();
    this.bars.stop();
    this.bars = undefined;
    this.active = 0;
  }
}
