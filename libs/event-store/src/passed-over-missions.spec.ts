import { MAX_NAMED_PASSED_OVER, NAME_HELD_WHEN_FULL_MS, PassedOverMissions } from './passed-over-missions';
import { UnreadableStoredDataError } from './unreadable-stored-data-error';

const unreadable = (missionId: string) => new UnreadableStoredDataError(missionId, 's is not the JSON of an object');

describe('PassedOverMissions', () => {
  function sweep() {
    const warns: string[] = [];
    return { warns, passedOver: new PassedOverMissions('the test sweep', (message) => warns.push(message)) };
  }

  it('given a mission noted twice, when noted, then it is named once', () => {
    const { warns, passedOver } = sweep();

    passedOver.note(unreadable('m-1'));
    passedOver.note(unreadable('m-1'));

    expect(warns).toEqual([
      'the test sweep passes over mission m-1: s is not the JSON of an object, on every run until it is mended (run replay verify, then replay rebuild)',
    ]);
  });

  it('given a named mission read fine since, when it breaks again, then it is named again', () => {
    const { warns, passedOver } = sweep();
    passedOver.note(unreadable('m-1'));

    passedOver.readable('m-1');
    passedOver.note(unreadable('m-1'));

    expect(warns).toHaveLength(2);
  });

  it('given a named mission whose step succeeds since, when it breaks again, then it is named again', async () => {
    const { warns, passedOver } = sweep();
    await passedOver.step('m-1', () => Promise.reject(unreadable('m-1')));

    await passedOver.step('m-1', () => Promise.resolve('read'));
    await passedOver.step('m-1', () => Promise.reject(unreadable('m-1')));

    expect(warns).toHaveLength(2);
  });

  it('given a mission read fine that was never named, when it is noted, then it is named', () => {
    const { warns, passedOver } = sweep();

    passedOver.readable('m-1');
    passedOver.note(unreadable('m-1'));

    expect(warns).toHaveLength(1);
  });

  it('given as many missions named as it keeps, when more are noted, then one line says further ones are not named', () => {
    const { warns, passedOver } = sweep();
    for (let i = 0; i < MAX_NAMED_PASSED_OVER; i++) passedOver.note(unreadable(`m-${i}`));

    passedOver.note(unreadable('one-more'));
    passedOver.note(unreadable('and-another'));

    expect(warns).toHaveLength(MAX_NAMED_PASSED_OVER + 1);
    expect(warns[MAX_NAMED_PASSED_OVER]).toBe(
      `the test sweep passes over more than ${MAX_NAMED_PASSED_OVER} missions whose stored data cannot be read; further ones are not named (run replay verify, which names them all, then replay rebuild)`,
    );
  });

  it('given it is full and one named mission is read fine, when a new one is noted, then that one is named', () => {
    const { warns, passedOver } = sweep();
    for (let i = 0; i < MAX_NAMED_PASSED_OVER; i++) passedOver.note(unreadable(`m-${i}`));
    passedOver.note(unreadable('over-the-cap'));

    passedOver.readable('m-0');
    passedOver.note(unreadable('in-its-room'));

    expect(warns[warns.length - 1]).toContain('passes over mission in-its-room:');
  });

  // A name was let go only when its mission was read fine: names of missions deleted, or mended
  // where this process does not read them, used up the room for good, and no later one was named.
  it('given it is full, when a new mission is noted, then it is named once a named mission has not been passed over for a day, and a mission whose name went is named again', () => {
    const warns: string[] = [];
    const start = Date.parse('2026-12-07T08:00:00.000Z');
    let now = start;
    const passedOver = new PassedOverMissions('the test sweep', (message) => warns.push(message), { now: () => now });
    // m-i named at start + i ms.
    for (let i = 0; i < MAX_NAMED_PASSED_OVER; i++, now++) passedOver.note(unreadable(`m-${i}`));
    const named = (missionId: string) =>
      `the test sweep passes over mission ${missionId}: s is not the JSON of an object, on every run until it is mended (run replay verify, then replay rebuild)`;
    const linesOf = (run: () => void): string[] => {
      const before = warns.length;
      run();
      return warns.slice(before);
    };

    now = start + NAME_HELD_WHEN_FULL_MS - 1;
    expect(linesOf(() => passedOver.note(unreadable('broke-later')))).toEqual([expect.stringContaining('passes over more than')]);
    now = start + NAME_HELD_WHEN_FULL_MS;
    expect(linesOf(() => passedOver.note(unreadable('broke-later')))).toEqual([named('broke-later')]);
    // Its name gone, m-0 is named again once m-1, passed over longest ago, has not been for a day.
    expect(linesOf(() => passedOver.note(unreadable('m-0')))).toEqual([]);
    now += 1;
    expect(linesOf(() => passedOver.note(unreadable('m-0')))).toEqual([named('m-0')]);
    expect(linesOf(() => passedOver.note(unreadable('broke-later')))).toEqual([]);
  });

  // A name's day ran from when it was named, not from when its mission was last passed over: with
  // more than 1000 missions broken for good, every name made room in turn once a day and its
  // mission, passed over on the next run, was named again, 1000 lines a day.
  it('given more missions than it names, passed over every hour, when days go by, then none is named again and the further one never is', () => {
    const warns: string[] = [];
    let now = Date.parse('2026-12-07T08:00:00.000Z');
    const passedOver = new PassedOverMissions('the test sweep', (message) => warns.push(message), { now: () => now });
    const broken = Array.from({ length: MAX_NAMED_PASSED_OVER + 1 }, (_, i) => `m-${i}`);
    const linesPerDay: number[] = [];

    for (let day = 0; day < 3; day++) {
      const before = warns.length;
      for (let hour = 0; hour < 24; hour++, now += 60 * 60 * 1000) for (const missionId of broken) passedOver.note(unreadable(missionId));
      linesPerDay.push(warns.length - before);
    }

    expect(linesPerDay).toEqual([MAX_NAMED_PASSED_OVER + 1, 0, 0]);
    expect(warns).not.toContainEqual(expect.stringContaining(`mission m-${MAX_NAMED_PASSED_OVER}:`));
  });

  it('given it is full, when one named mission is no longer passed over, then a day after it last was its name makes room and the others keep theirs', () => {
    const warns: string[] = [];
    const start = Date.parse('2026-12-07T08:00:00.000Z');
    let now = start;
    const passedOver = new PassedOverMissions('the test sweep', (message) => warns.push(message), { now: () => now });
    const stillBroken = Array.from({ length: MAX_NAMED_PASSED_OVER - 1 }, (_, i) => `m-${i}`);
    const run = (...missionIds: string[]): string[] => {
      const before = warns.length;
      for (const missionId of missionIds) passedOver.note(unreadable(missionId));
      return warns.slice(before);
    };
    run(...stillBroken, 'mended-elsewhere');
    now = start + 60 * 60 * 1000;
    // Passed over an hour later, the others are held a day from then; mended-elsewhere is not seen again.
    run(...stillBroken);

    now = start + NAME_HELD_WHEN_FULL_MS - 1;
    expect(run(...stillBroken, 'broke-later')).toEqual([expect.stringContaining('passes over more than')]);
    now = start + NAME_HELD_WHEN_FULL_MS;
    expect(run(...stillBroken, 'broke-later')).toEqual([expect.stringContaining('passes over mission broke-later:')]);
    now += 2 * NAME_HELD_WHEN_FULL_MS;
    expect(run(...stillBroken, 'broke-later')).toEqual([]);
  });

  it('given what passing over a mission holds up, when it is noted, then its line says so after the remedy', () => {
    const warns: string[] = [];
    const passedOver = new PassedOverMissions('the test sweep', (message) => warns.push(message), { holdsUp: 'the test job of guest:1 waits until then' });

    passedOver.note(unreadable('m-1'));

    expect(warns).toEqual([
      'the test sweep passes over mission m-1: s is not the JSON of an object, on every run until it is mended (run replay verify, then replay rebuild); the test job of guest:1 waits until then',
    ]);
  });
});
