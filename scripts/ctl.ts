#!/usr/bin/env node
import { runCtl } from './ctl/ctl-program';
import { stopSignalListener } from './stop-signal-listener';

/**
 * brain-ctl (`npm run ctl -- <command>`): the operator's actions from a terminal over the REST API.
 * `npm run ctl -- --help` lists the commands; each has its own --help.
 */
const interrupt = new AbortController();
// Ctrl-C ends a command (`missions watch` with exit 0); its copy from npm is no second one, which
// would kill the ctl with 130. A Ctrl-C pressed again later still ends it at once.
process.on(
  'SIGINT',
  stopSignalListener({
    first: () => interrupt.abort(),
    again: () => process.exit(130),
  }),
);
runCtl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: interrupt.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ctl: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 4;
  },
);
