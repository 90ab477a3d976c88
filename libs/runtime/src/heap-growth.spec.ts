import { execFileSync } from 'node:child_process';
import { heapGrowthFlag } from './heap-growth';

describe('heapGrowthFlag (HEAP_GROWING_PERCENT)', () => {
  it('given a percent, then it is a flag this Node accepts, whatever the process runs', () => {
    const flag = heapGrowthFlag(70, 'oneProcess');
    expect(flag).toBe('--heap-growing-percent=70');
    // Node refuses a flag V8 does not know ("bad option"), where setFlagsFromString would ignore it silently.
    expect(execFileSync(process.execPath, [flag ?? '', '-p', '"known"'], { encoding: 'utf8', env: {} }).trim()).toBe('known');
  });

  it('given none, then a service grows its heap by 50 %, the one process of all four by 100 %; given 0, then V8 decides', () => {
    expect(heapGrowthFlag(undefined, 'service')).toBe('--heap-growing-percent=50');
    expect(heapGrowthFlag(undefined, 'oneProcess')).toBe('--heap-growing-percent=100');
    expect(heapGrowthFlag(0, 'service')).toBeNull();
  });
});
