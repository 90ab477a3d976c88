/**
 * A reader that stopped early (`… | head`) closed the pipe: it has what it wanted, so the command
 * ends quietly with `exitCode` ("done"), instead of with an unhandled 'error' event's stack trace and
 * exit 1, which the CLIs' own exit codes give another meaning. For the replay CLI and the ctl.
 * But for stdout written by a command that listens for its errors itself: `replay export --out
 * /dev/stdout` fails (7) when its reader goes, since what that reader got is an export cut short.
 */
export function exitQuietlyWhenStdoutCloses(exitCode: number): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // Another listener's to report with its own exit code (replay export writing to stdout: 7, a
    // full disk or a reader gone); thrown as the unhandled error it is otherwise.
    if (process.stdout.listenerCount('error') > 1) return;
    if (error.code === 'EPIPE') process.exit(exitCode);
    throw error;
  });
  // stderr carries what went wrong (`… bogus 2>&1 | head -1`: the usage text): the command still
  // ends with its own code (2 for bad usage), not "done" and not exit 1 for the unhandled 'error'.
  // Later writes to the closed stream are dropped without another 'error'.
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
