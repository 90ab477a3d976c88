import { MAX_NAMED_PASSED_OVER, PassedOverMissions } from './passed-over-missions';
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

  it('given what passing over a mission holds up, when it is noted, then its line says so after the remedy', () => {
    const warns: string[] = [];
    const passedOver = new PassedOverMissions('the test sweep', (message) => warns.push(message), 'the test job of guest:1 waits until then');

    passedOver.note(unreadable('m-1'));

    expect(warns).toEqual([
      'the test sweep passes over mission m-1: s is not the JSON of an object, on every run until it is mended (run replay verify, then replay rebuild); the test job of guest:1 waits until then',
    ]);
  });
});
