/**
 * A reader that stopped early (`… | head`) closed the pipe: it has what it wanted, so the command
 * ends quietly with `exitCode` ("done"), instead of with an unhandled 'error' event's stack trace and
 * exit 1, which the CLIs' own exit codes give another meaning. For the replay CLI and the ctl.
 */
export function exitQuietlyWhenStdoutCloses(exitCode: number): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(exitCode);
  });
}
