/** How long the services of one process get to close on a signal: under the launcher's 10 s before it kills. */
export const ONE_PROCESS_CLOSE_MS = 9_000;

/** What closeServiceApps needs of a Nest application. */
export interface ClosableApp {
  close(): Promise<void>;
}

/**
 * Closes the services of one process, all at once. Each stops taking work in its first destroy hook
 * (the intake's HttpDrain stops listening, every stream consumer stops reading) and then drains:
 * the intake its HTTP responses, the executor its LLM calls, each within SHUTDOWN_GRACE_MS. One
 * after another, those two graces added up past `limitMs` and cut the executor's calls; as
 * separate processes they drain side by side too. Whether all closed cleanly; `limitMs`
 * (ONE_PROCESS_CLOSE_MS) bounds the wait below the launcher's 10 s before it kills.
 */
export async function closeServiceApps(apps: readonly ClosableApp[], limitMs = ONE_PROCESS_CLOSE_MS): Promise<boolean> {
  const closing = Promise.all(apps.map((app) => settle(app.close()))).then((results) => results.every(Boolean));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), limitMs)));
  try {
    return await Promise.race([closing, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function settle(closing: Promise<void>): Promise<boolean> {
  try {
    await closing;
    return true;
  } catch (error) {
    process.stderr.write(`one-process: closing a service failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return false;
  }
}
