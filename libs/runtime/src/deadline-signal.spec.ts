import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deadlineSignal } from './deadline-signal';

describe('deadlineSignal', () => {
  it('given nothing else referencing its timer, when the garbage collector runs, then it still aborts at its deadline with a TimeoutError', async () => {
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    const { signal } = deadlineSignal(50);
    collectGarbage();
    await once(signal, 'abort');
    expect(signal.reason).toMatchObject({ name: 'TimeoutError' });
  });

  it('given another signal that aborts first, then it aborts with that reason', () => {
    const stop = new AbortController();
    const { signal, clear } = deadlineSignal(60_000, stop.signal);
    stop.abort(new Error('stopping'));
    clear();
    expect(signal.reason).toEqual(new Error('stopping'));
  });

  it('given it cleared before its deadline, then it never aborts', () => {
    jest.useFakeTimers();
    try {
      const { signal, clear } = deadlineSignal(20);
      clear();
      jest.advanceTimersByTime(1_000);
      expect(signal.aborted).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});
