import { exitCodeAfterStop } from '../../scripts/demo';

/**
 * The demo's exit code once the system it started has stopped: the services' own 78 or 69 only when
 * they stopped before the system was ready (a refusal at start, as `npm start` ends on it), 1 when
 * they stopped on it once it was ready (a crash mid-run, after the demo had written), and a stop
 * signal's 130 whatever the system did.
 */
describe("the demo's exit code after the system stopped", () => {
  it.each([
    [78, 'a variable a service refused'],
    [69, 'a Redis none could reach'],
  ])('given the system stopped on %i (%s) before it was ready, then the demo ends with that code', (systemCode) => {
    expect(exitCodeAfterStop(1, systemCode, false)).toBe(systemCode);
  });

  // The `ready` flag is what tells a refusal at start from a crash mid-run: without it a 78 or 69
  // once the missions were submitted read as "fix the configuration" instead of a run gone wrong.
  it.each([78, 69])('given the system stopped on %i once it was ready, then the demo ends 1, as for any crash mid-run', (systemCode) => {
    expect(exitCodeAfterStop(1, systemCode, true)).toBe(1);
    expect(exitCodeAfterStop(0, systemCode, true)).toBe(1);
  });

  it('given the system stopped on another code before it was ready, then the demo ends 1', () => {
    expect(exitCodeAfterStop(1, 2, false)).toBe(1);
  });

  it('given a stop signal, then the demo ends 130 whatever the system stopped on', () => {
    expect(exitCodeAfterStop(130, 78, false)).toBe(130);
    expect(exitCodeAfterStop(130, 1, true)).toBe(130);
  });

  it('given the system stopped by the demo (0), then the run decides: 0, 1 or 3', () => {
    expect(exitCodeAfterStop(0, 0, true)).toBe(0);
    expect(exitCodeAfterStop(3, 0, true)).toBe(3);
    expect(exitCodeAfterStop(1, 0, false)).toBe(1);
  });
});
