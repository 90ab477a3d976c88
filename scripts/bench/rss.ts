import { readFileSync } from 'node:fs';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import { ONE_PROCESS } from '../launcher';

/** Peak resident set (VmHWM) and resident set now (VmRSS) from /proc/<pid>/status, MB; null when the process is gone or there is no /proc. */
export function processMemory(pid: number): { peakMb: number; currentMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
    return { peakMb: field('VmHWM'), currentMb: field('VmRSS') };
  } catch {
    return null;
  }
}

/**
 * The launcher's "Started <name> (pid N)": a service, or every service for the one process; none
 * for any other process the launcher starts (the Odoo connector), whose pid taken for the services'
 * made the bench measure it and report one process.
 */
export function pidsFromLauncherLine(line: string): Partial<Record<ServiceName, number>> {
  const match = /Started (\S+) \(pid (\d+)\)/.exec(line);
  if (!match) return {};
  const pid = Number(match[2]);
  if (match[1] === ONE_PROCESS) return Object.fromEntries(SERVICE_NAMES.map((service) => [service, pid]));
  const named = SERVICE_NAMES.find((service) => service === match[1]);
  return named ? { [named]: pid } : {};
}
