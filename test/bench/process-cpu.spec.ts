import { cpuMsFromStat, processCpuMs, servicesCpu } from '../../scripts/bench/process-cpu';

describe('process CPU from /proc (bench)', () => {
  it('given a stat line whose command name holds spaces and parentheses, then utime + stime are read from after the last parenthesis', () => {
    // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime …
    const stat = '4242 (node (intake) x) S 1 4242 4242 0 -1 4194304 9000 0 12 0 250 37 0 0 20 0 11 0 123 456';
    expect(cpuMsFromStat(stat)).toBe(2870);
  });

  it('given something else, then a clear error', () => {
    expect(() => cpuMsFromStat('not a stat line')).toThrow(/not a \/proc\/<pid>\/stat line/);
  });

  it('given this process doing work, then its CPU grows, and a process that is gone reads null', () => {
    const before = processCpuMs(process.pid);
    expect(before).not.toBeNull();
    const measure = servicesCpu({ intake: process.pid, orchestrator: process.pid });
    let spent = 0;
    // CPU, not wall time: /proc counts in 10 ms ticks, so spin until two of them have passed.
    while ((processCpuMs(process.pid) ?? 0) - (before ?? 0) < 20) spent += Math.sqrt(spent + 1);
    const used = measure();
    expect(used?.byPid).toEqual([{ services: ['intake', 'orchestrator'], ms: expect.any(Number) as number }]);
    expect(used?.totalMs).toBeGreaterThan(0);
    expect(processCpuMs(2 ** 22 + 1)).toBeNull();
  });
});
