import { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import { progressTime } from '../../scripts/progress-time';

/** What a bar prints into a pipe (the demo's output redirected), drawn with the demo's time format. */
function drawnWithoutTerminal(values: number[]): string {
  let printed = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      printed += chunk.toString('utf8');
      callback();
    },
  });
  const bar = new SingleBar({ stream, format: '[{bar}] {value}/{total} | ETA {eta_formatted}', noTTYOutput: true, formatTime: progressTime });
  bar.start(10, 0);
  for (const value of values) bar.update(value);
  bar.stop();
  // The last line is the bar as it stopped.
  return printed.trim().split('\n').at(-1) ?? '';
}

describe("progressTime (the demo's progress lines)", () => {
  it('given no progress yet, when a bar is printed into a pipe, then its ETA is a dash, not "NFs"', () => {
    // An update without progress leaves cli-progress an ETA of 'INF' (or 'NULL' within the same ms).
    expect(drawnWithoutTerminal([0])).toMatch(/\| ETA -$/);
  });

  it("given a known ETA, then cli-progress's own format", () => {
    expect(progressTime(75, { autopaddingChar: '0' }, 5)).toBe('01m15s');
  });
});
