import { FailureStreak } from './failure-streak';

describe('FailureStreak', () => {
  let now = 0;
  let lines: string[];
  let streak: FailureStreak;

  beforeEach(() => {
    now = 1_000;
    lines = [];
    streak = new FailureStreak(
      { failing: (error) => lines.push(`failing: ${String(error)}`), recovered: (failures, forMs) => lines.push(`recovered after ${failures} in ${forMs} ms`) },
      () => now,
    );
  });

  it('given the same error again and again, then it is reported once, and the first success says how many and for how long', () => {
    for (let i = 0; i < 58; i++) {
      streak.failed(new Error('OOM command not allowed'));
      now += 1_000;
    }
    streak.succeeded();
    streak.succeeded();

    expect(lines).toEqual(['failing: Error: OOM command not allowed', 'recovered after 58 in 58000 ms']);
  });

  it('given another error within the streak, then it is reported too, and the streak goes on', () => {
    streak.failed(new Error('OOM command not allowed'));
    streak.failed(new Error('Connection is closed.'));
    streak.failed(new Error('Connection is closed.'));
    streak.succeeded();

    expect(lines).toEqual(['failing: Error: OOM command not allowed', 'failing: Error: Connection is closed.', 'recovered after 3 in 0 ms']);
  });

  it('given a success in between, then the same error starts a new streak and is reported again', () => {
    streak.failed(new Error('OOM command not allowed'));
    streak.succeeded();
    streak.failed(new Error('OOM command not allowed'));

    expect(lines).toEqual(['failing: Error: OOM command not allowed', 'recovered after 1 in 0 ms', 'failing: Error: OOM command not allowed']);
  });

  it('given only successes, then nothing is reported', () => {
    streak.succeeded();
    expect(lines).toEqual([]);
  });
});
