/**
 * Why a service could not listen on `port` (at `host`, LISTEN_HOST, when set), in one line for a
 * person (no stack: the cause is not in the code). `variable` is the one that set the port, so the
 * hint names what to change; an address the machine does not have is LISTEN_HOST's to change.
 */
export function describeListenFailure(port: number, error: unknown, variable = 'PORT', host?: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `cannot listen on port ${port}`;
  if (code === 'EADDRINUSE') return `${where}: it is already in use (EADDRINUSE); stop what holds it or set ${variable} to a free port`;
  if (code === 'EACCES') return `${where}: permission denied (EACCES); ports below 1024 need privileges`;
  if (code === 'EADDRNOTAVAIL') {
    const address = host === undefined ? 'the address' : `LISTEN_HOST ${JSON.stringify(host)}`;
    return `${where}: ${address} is not an address of this machine (EADDRNOTAVAIL); set LISTEN_HOST to one of its addresses, or unset it for every interface`;
  }
  return `${where}: ${error instanceof Error ? error.message : String(error)}`;
}
