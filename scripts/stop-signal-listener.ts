/**
 * How long a repeat of the same signal counts as the same request to stop. One Ctrl-C under `npm
 * start`, `npm run demo` or `npm run ctl` arrives twice: the terminal signals the whole foreground process group
 * (npm, and the launcher that `exec` put in place of npm's shell), and npm forwards SIGINT and
 * SIGTERM to its child on top (@npmcli/run-script's signal manager); `kill -- -<pgid>` does the
 * same. The copies land milliseconds apart, but npm's can lag on a loaded machine; a person who
 * presses Ctrl-C again to ask what is going on does so seconds later, so one second separates the two.
 */
export const REPEATED_SIGNAL_WINDOW_MS = 1_000;

/** A listener for process.on(signal), which also tells when a copy of the last signal can no longer come. */
export interface StopSignalListener {
  (signal: NodeJS.Signals): void;
  /**
   * Resolves once the window of the last signal has passed (at once before any signal, or after
   * it): a process that has stopped waits for it before it ends. Ending sooner, a copy that comes
   * while Node tears the process down, with the signal's default action back in place, killed it
   * by that signal: `npm start` stopped within milliseconds ended as interrupted (130 under npm),
   * not 0.
   */
  copiesPassed(): Promise<void>;
}

/**
 * The launchers' (npm start, the demo) and the ctl's signal listener: `first` for the first signal, `again` for
 * each later one, except a repeat of the signal just received within `windowMs` of it, which is
 * the same keypress delivered twice (see REPEATED_SIGNAL_WINDOW_MS) and answers nothing.
 */
export function stopSignalListener(
  handlers: { first: (signal: NodeJS.Signals) => void; again: (signal: NodeJS.Signals) => void },
  options: { windowMs?: number; now?: () => number } = {},
): StopSignalListener {
  const windowMs = options.windowMs ?? REPEATED_SIGNAL_WINDOW_MS;
  // Monotonic: a clock step must not turn a copy into a second request, or the reverse.
  const now = options.now ?? (() => performance.now());
  let last: { signal: NodeJS.Signals; at: number } | undefined;
  const listener = (signal: NodeJS.Signals) => {
    const at = now();
    const previous = last;
    last = { signal, at };
    if (!previous) handlers.first(signal);
    else if (previous.signal !== signal || at - previous.at >= windowMs) handlers.again(signal);
  };
  const copiesPassed = async () => {
    // From the last signal: a Ctrl-C pressed again later has its copy on the way too.
    const left = last === undefined ? 0 : last.at + windowMs - now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
  };
  return Object.assign(listener, { copiesPassed });
}
