/**
 * Why a service could not listen on `port`, in one line for a person (no stack: the cause is not in
 * the code). `variable` is the one that set the port, so the hint names what to change.
 */
export function describeListenFailure(port: number, error: unknown, variable = 'PORT'): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `cannot listen on port ${port}`;
  if (code === 'EADDRINUSE') return `${where}: it is already in use (EADDRINUSE); stop what holds it or set ${variable} to a free port`;
  if (code === 'EACCES') return `${where}: permission denied (EACCES); ports below 1024 need privileges`;
  if (code === 'EADDRNOTAVAIL') return `${where}: the address is not available on this machine (EADDRNOTAVAIL)`;
  return `${where}: ${error instanceof Error ? error.message : String(error)}`;
}
