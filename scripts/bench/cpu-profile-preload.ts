/**
 * Preloaded into a service (`NODE_OPTIONS=--require .../cpu-profile-preload.js`, set by
 * `bench --cpu-prof <dir>`): profiles the whole process with the inspector and writes
 * `<dir>/<service>-<pid>.cpuprofile` when it is told to stop.
 *
 * Why not `node --cpu-prof`: that writes its file only on a normal exit, and a Nest service ends
 * by re-raising SIGTERM on itself after its shutdown hooks, so the profile would never be written.
 * This listener runs first on SIGTERM/SIGINT (it is registered before Nest's) and on 'exit'; the
 * in-thread inspector session answers synchronously, so the file is complete before Nest goes on.
 */
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // µs between samples; 1000 is what --cpu-prof uses by default.
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROF_INTERVAL_US) || 1_000 });
  session.post('Profiler.start');
  let written = false;
  const service = basename(dirname(dirname(process.argv[1] ?? 'node'))) || 'node';
  const write = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (error, result) => {
      if (error || !result) {
        process.stderr.write(`cpu profile: ${error?.message ?? 'no profile'}\n`);
        return;
      }
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${service}-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
      process.stderr.write(`cpu profile written: ${file}\n`);
    });
  };
  process.prependListener('SIGTERM', write);
  process.prependListener('SIGINT', write);
  process.once('exit', write);
}
