/** Each process the launcher started, by the pid of its first `Started <name> (pid N)` line (a restart's is not taken). */
export function startedPids(lines: readonly string[]): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const line of lines) {
    const match = /Started (\S+) \(pid (\d+)\)/.exec(line);
    if (match && !(match[1] in pids)) pids[match[1]] = Number(match[2]);
  }
  return pids;
}
