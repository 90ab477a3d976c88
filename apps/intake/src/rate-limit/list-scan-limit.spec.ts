import { ListScanSlots } from './list-scan-limit';

describe('ListScanSlots', () => {
  it('given a key with all its slots taken, then it gets none until one is released; other keys keep theirs', () => {
    const slots = new ListScanSlots(2);
    expect([slots.take('reader'), slots.take('reader'), slots.take('reader')]).toEqual([true, true, false]);
    expect(slots.take('operator')).toBe(true);
    slots.release('reader');
    expect([slots.take('reader'), slots.take('reader')]).toEqual([true, false]);
    slots.release('reader');
    slots.release('reader');
    expect([slots.take('reader'), slots.take('reader'), slots.take('reader')]).toEqual([true, true, false]);
  });
});
