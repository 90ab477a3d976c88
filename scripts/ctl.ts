#!/usr/bin/env node
import { getEventListeners } from 'node:events';
import { exitQuietlyWhenStdoutCloses } from './closed-stdout';
import { EXIT } from './ctl/brain-api';
import { runCtl } from './ctl/ctl-program';
import { stopSignalListener } from './stop-signal-listener';

/**
 * brain-ctl (`npm run ctl -- <command>`): the operator's actions from a terminal over the REST API.
 * `npm run ctl -- --help` lists the commands; each has its own --help.
 */
const interrupt = new AbortController();
// Ctrl-C ends a command: one that listens for it (`missions watch`) as done, exit 0; any other at
// once, as interrupted (130). Its copy from npm is no second Ctrl-C, which would kill `watch` with
// 130; one pressed again later still ends the ctl at once.
const onSignal = stopSignalListener({
  first: () => {
    const listened = getEventListeners(interrupt.signal, 'abort').length > 0;
    interrupt.abort();
    if (!listened) process.exit(130);
  },
  again: () => process.exit(130),
});
process.on('SIGINT', onSignal);
// `ctl --json missions list | head -1`: done, exit 0, not 1 (the API refused it).
exitQuietlyWhenStdoutCloses(EXIT.ok);
runCtl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: interrupt.signal })
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`ctl: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 4;
    },
  )
  // A watch ended by Ctrl-C stays until npm's copy of it has landed on the listener.
  .then(() => onSignal.copiesPassed());
