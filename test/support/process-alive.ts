/** Whether a process with this pid exists: signal 0 only checks, for processes a test did not spawn itself (its services, an orphan). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
