/** A signal that aborts at a deadline or with any of the signals given, and how to stop its timer. */
export interface DeadlineSignal {
  signal: AbortSignal;
  /** Ends the timer once the work it bounds is done. */
  clear(): void;
}

/**
 * A signal aborted by any of `signals`, or `ms` from now with a `TimeoutError`, as
 * `AbortSignal.any([...signals, AbortSignal.timeout(ms)])` would be. That one does not hold on
 * Node 20: `AbortSignal.any` holds its sources weakly, so a timeout signal that nothing else
 * references is garbage-collected and never fires (a fetch to a host that took the connection and
 * never answered waited undici's own 10 s connect timeout, whatever its timeout said). Here the
 * timer holds the controller. Like AbortSignal.timeout's, the timer keeps no process alive.
 */
export function deadlineSignal(ms: number, ...signals: AbortSignal[]): DeadlineSignal {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  timer.unref();
  return { signal: AbortSignal.any([deadline.signal, ...signals]), clear: () => clearTimeout(timer) };
}
