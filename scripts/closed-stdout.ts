/**
 * A reader that stopped early (`… | head`) closed the pipe: it has what it wanted, so the command
 * ends quietly with `exitCode` ("done"), instead of with an unhandled 'error' event's stack trace and
 * exit 1, which the CLIs' own exit codes give another meaning. For the replay CLI and the ctl.
 */
export function exitQuietlyWhenStdoutCloses(exitCode: number): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(exitCode);
    // Another listener's to report with its own exit code (replay export writing to stdout: 7, a
    // full disk); thrown as the unhandled error it is otherwise.
    if (process.stdout.listenerCount('error') === 1) throw error;
  });
  // stderr carries what went wrong (`… bogus 2>&1 | head -1`: the usage text): the command still
  // ends with its own code (2 for bad usage), not "done" and not exit 1 for the unhandled 'error'.
  // Later writes to the closed stream are dropped without another 'error'.
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
