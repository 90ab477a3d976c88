import { readFileSync } from 'node:fs';
import { ServiceName } from '@app/messages';

/** Clock ticks per second of /proc/<pid>/stat: USER_HZ, 100 on every Linux the bench runs on (the kernel's ABI, not CONFIG_HZ). */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU of a process from a /proc/<pid>/stat line, ms. The command name (field 2) is
 * in parentheses and may hold spaces and parentheses itself, so the fields are counted from the
 * last `)`: utime and stime are fields 14 and 15.
 */
export function cpuMsFromStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** CPU a process has used since it started, ms; null when it is gone or there is no /proc. */
export function processCpuMs(pid: number): number | null {
  try {
    return cpuMsFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Starts measuring the services' CPU (each process once, however many services it runs); the
 * returned function gives the CPU used since, ms, per process (its services named) and in all,
 * or null when a process could not be read.
 */
export function servicesCpu(pids: Partial<Record<ServiceName, number>>): () => { totalMs: number; byPid: { services: ServiceName[]; ms: number }[] } | null {
  const processes = new Map<number, ServiceName[]>();
  for (const [service, pid] of Object.entries(pids) as [ServiceName, number][]) processes.set(pid, [...(processes.get(pid) ?? []), service]);
  const before = new Map([...processes.keys()].map((pid) => [pid, processCpuMs(pid)]));
  return () => {
    const byPid: { services: ServiceName[]; ms: number }[] = [];
    for (const [pid, services] of processes) {
      const start = before.get(pid);
      const end = processCpuMs(pid);
      if (start === null || start === undefined || end === null) return null;
      byPid.push({ services, ms: end - start });
    }
    return { totalMs: byPid.reduce((sum, { ms }) => sum + ms, 0), byPid };
  };
}
