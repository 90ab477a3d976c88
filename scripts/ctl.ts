#!/usr/bin/env node
import { runCtl } from './ctl/ctl-program';

/**
 * brain-ctl (`npm run ctl -- <command>`): the operator's actions from a terminal over the REST API.
 * `npm run ctl -- --help` lists the commands; each has its own --help.
 */
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());
runCtl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: interrupt.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ctl: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 4;
  },
);
