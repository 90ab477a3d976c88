import { readdirSync, readFileSync } from 'node:fs';

export const SERVICES = ['intake', 'orchestrator', 'executor', 'evaluator'] as const;
export type Service = (typeof SERVICES)[number];

export interface ProcessMemory {
  /** Peak resident set (VmHWM), MB. */
  peakMb: number;
  /** Resident set now (VmRSS), MB. */
  currentMb: number;
}

/** VmHWM and VmRSS from /proc/<pid>/status (Linux); null when the process is gone or /proc is not there. */
export function processMemory(pid: number): ProcessMemory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => {
      const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
      return match ? Number(match[1]) / 1024 : NaN;
    };
    return { peakMb: field('VmHWM'), currentMb: field('VmRSS') };
  } catch {
    return null;
  }
}

/**
 * The service processes among the children of `parentPid`, by their entry file: the fallback when
 * the launcher's "Started <service> (pid N)" lines were not seen.
 */
export function findServicePids(parentPid = process.pid): Partial<Record<Service, number>> {
  const found: Partial<Record<Service, number>> = {};
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return found;
  }
  for (const name of entries) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the command name in parentheses, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      for (const service of SERVICES) {
        if (cmdline.includes(`dist/apps/${service}/src/main.js`)) found[service] = Number(name);
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Parses the launcher's log line "Started intake (pid 12345)". */
export function pidFromLauncherLine(line: string): { service: Service; pid: number } | null {
  const match = /Started (intake|orchestrator|executor|evaluator) \(pid (\d+)\)/.exec(line);
  return match ? { service: match[1] as Service, pid: Number(match[2]) } : null;
}

/**
 * Samples VmRSS of each process once a second, as a cross-check of VmHWM (which the kernel keeps
 * exactly, so the figures reported are VmHWM read at the end).
 */
export class RssSampler {
  private readonly max = new Map<Service, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: () => Partial<Record<Service, number>>) {}

  start(intervalMs = 1_000): void {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    for (const [service, pid] of Object.entries(this.pids()) as [Service, number][]) {
      const memory = processMemory(pid);
      if (memory && Number.isFinite(memory.currentMb)) this.max.set(service, Math.max(this.max.get(service) ?? 0, memory.currentMb));
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  maxSampledMb(service: Service): number | undefined {
    return this.max.get(service);
  }
}
