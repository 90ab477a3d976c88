/**
 * The exit codes that mean the same in every program of the project (the services, the connector,
 * npm start, the demo and the CLIs), so a script can tell "fix how you called it" from "fix the
 * configuration". Codes one program alone gives stay with it.
 */

/** Bad usage: an unknown command, option or value, or options that exclude each other. */
export const EXIT_USAGE = 2;

/** A bad variable or configuration file (sysexits' EX_CONFIG): what a ConfigError says. */
export const EXIT_CONFIG = 78;
