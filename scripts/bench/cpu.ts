import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat and /proc/stat (USER_HZ, 100 on Linux). */
const HZ = 100;

export interface CpuMark {
  at: number;
  /** Busy jiffies of the whole machine (all CPUs), null without /proc. */
  machineBusy: number | null;
  /** Jiffies per named process. */
  processes: Record<string, number>;
}

export interface CpuUse {
  seconds: number;
  cpus: number;
  /** CPUs kept busy on average over the interval, by anything (max = cpus). */
  machineBusy: number | null;
  /** CPUs kept busy by each named process (1.0 = one core all the time). */
  processes: Record<string, number>;
  /** machineBusy − the named processes: other people's work on the machine. */
  others: number | null;
}

function machineBusyJiffies(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return user + nice + system + irq + softirq + steal;
  } catch {
    return null;
  }
}

function processJiffies(pid: number, withReapedChildren: boolean): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    const own = Number(fields[11]) + Number(fields[12]);
    return withReapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own;
  } catch {
    return null;
  }
}

/**
 * CPU used per process between two marks, from /proc (Linux): where the cores went in each phase
 * (the services, Redis, the bench itself, and whatever else runs on the machine). On 2 cores a
 * figure means little without it.
 */
export class CpuMeter {
  constructor(
    /** Named processes to account; `bench` counts its reaped children (helper processes) too. */
    private readonly pids: () => Record<string, number | undefined>,
  ) {}

  mark(): CpuMark {
    const processes: Record<string, number> = {};
    const seen = new Set<number>();
    for (const [name, pid] of Object.entries(this.pids())) {
      // In-process mode every service is this process: count it once.
      if (pid === undefined || seen.has(pid)) continue;
      seen.add(pid);
      const jiffies = processJiffies(pid, name === 'bench');
      if (jiffies !== null) processes[name] = jiffies;
    }
    return { at: Date.now(), machineBusy: machineBusyJiffies(), processes };
  }

  static between(from: CpuMark, to: CpuMark): CpuUse {
    const seconds = Math.max(0.001, (to.at - from.at) / 1000);
    const cores = (jiffies: number) => jiffies / HZ / seconds;
    const processes: Record<string, number> = {};
    for (const [name, end] of Object.entries(to.processes)) {
      const start = from.processes[name];
      if (start !== undefined) processes[name] = cores(end - start);
    }
    const machineBusy = from.machineBusy !== null && to.machineBusy !== null ? cores(to.machineBusy - from.machineBusy) : null;
    const named = Object.values(processes).reduce((sum, value) => sum + value, 0);
    return { seconds, cpus: cpus().length, machineBusy, processes, others: machineBusy === null ? null : Math.max(0, machineBusy - named) };
  }
}
