import { execFileSync } from 'node:child_process';
import { heapGrowthFlag } from './heap-growth';

describe('heapGrowthFlag (HEAP_GROWING_PERCENT)', () => {
  it('given a percent, then it is a flag this Node accepts; given 0, then no flag (V8 sets the factor)', () => {
    const flag = heapGrowthFlag(100);
    expect(flag).toBe('--heap-growing-percent=100');
    // Node refuses a flag V8 does not know ("bad option"), where setFlagsFromString would ignore it silently.
    expect(execFileSync(process.execPath, [flag ?? '', '-p', '"known"'], { encoding: 'utf8', env: {} }).trim()).toBe('known');
    expect(heapGrowthFlag(0)).toBeNull();
  });
});
