import { ProgressLines } from '../../scripts/progress-lines';

describe("ProgressLines (the demo's progress written to a file or a pipe)", () => {
  function progress() {
    const clock = { now: 0 };
    const lines: string[] = [];
    const reporter = new ProgressLines((line) => lines.push(line), { intervalMs: 10_000, now: () => clock.now });
    return { clock, lines, reporter };
  }

  it('given a counter that moves every second to its end, then one line at its end, not one per update', () => {
    const { clock, lines, reporter } = progress();
    for (let done = 0; done <= 8; done += 1) {
      reporter.update('submitted', done, 8, '1.0');
      clock.now += 1_000;
    }

    expect(lines).toEqual(['submitted 8/8 100% | 1.0/s']);
  });

  it('given a counter that takes long, then a line each interval it moved, and one when complete', () => {
    const { clock, lines, reporter } = progress();
    for (let done = 0; done <= 30; done += 1) {
      reporter.update('finished ', done, 30, '0.5');
      clock.now += 2_000;
      // Polled in between without progress: nothing new to say.
      reporter.update('finished ', done, 30, '0.5');
    }

    // One every 10 s (at 4, 9, … of the 2 s steps), then the end: 7 lines where the bars printed 30 blocks.
    expect(lines).toEqual([
      'finished 4/30 13% | 0.5/s',
      'finished 9/30 30% | 0.5/s',
      'finished 14/30 46% | 0.5/s',
      'finished 19/30 63% | 0.5/s',
      'finished 24/30 80% | 0.5/s',
      'finished 29/30 96% | 0.5/s',
      'finished 30/30 100% | 0.5/s',
    ]);
  });

  it('given a counter that stands still, then it is not printed again however long it waits', () => {
    const { clock, lines, reporter } = progress();
    reporter.update('finished ', 3, 5, '0.1');
    clock.now += 10_000;
    reporter.update('finished ', 4, 5, '0.1');
    for (let poll = 0; poll < 10; poll += 1) {
      clock.now += 10_000;
      reporter.update('finished ', 4, 5, '0.1');
    }

    expect(lines).toEqual(['finished 4/5 80% | 0.1/s']);
  });

  it('given two counters, then each keeps its own interval', () => {
    const { clock, lines, reporter } = progress();
    reporter.update('submitted', 0, 2, '0.0');
    reporter.update('submitted', 2, 2, '9.0');
    reporter.update('finished ', 0, 2, '0.0');
    clock.now += 10_000;
    reporter.update('finished ', 1, 2, '0.1');

    expect(lines).toEqual(['submitted 2/2 100% | 9.0/s', 'finished 1/2 50% | 0.1/s']);
  });

  it('given counters stopped before they complete (the timeout, Ctrl-C), then flush prints the last value of each moved since its line', () => {
    const { clock, lines, reporter } = progress();
    reporter.update('submitted', 8, 8, '4.0');
    // Every 5 s: printed at 10 s (5), then 6 comes within the interval of that line.
    [0, 3, 5, 6].forEach((done, step) => {
      clock.now = step * 5_000;
      reporter.update('finished ', done, 8, `0.${done}`);
    });
    reporter.flush();
    // Nothing moved since: a second flush (the demo stops its counters more than once) says nothing.
    reporter.flush();

    expect(lines).toEqual(['submitted 8/8 100% | 4.0/s', 'finished 5/8 62% | 0.5/s', 'finished 6/8 75% | 0.6/s']);
  });

  it('given a counter that never moved, then flush prints where it stood, once', () => {
    const { lines, reporter } = progress();
    reporter.update('finished ', 0, 8, '0.0');
    reporter.flush();
    reporter.flush();

    expect(lines).toEqual(['finished 0/8 0% | 0.0/s']);
  });
});
