import 'reflect-metadata';
import './instrumentation';
import { ConfigError, EXIT_CONFIG, loadEnvironment } from '@app/config';
import {
  exitOnConfigError,
  exitOnStartFailure,
  handedPortVariable,
  limitHeapGrowth,
  listenOrExit,
  redisOrExit,
  reportListening,
  stopWhenLauncherGoes,
} from '@app/runtime';
import { createConnectorApp } from './connector-app';
import { CONNECTOR } from './connector-keys';
import { loadOdooMapping, OdooMapping } from './odoo-mapping';

/** The connector's own port when PORT is not set (the four services use 3000–3003). */
const DEFAULT_PORT = 3004;

async function main(): Promise<void> {
  let env;
  try {
    env = loadEnvironment();
  } catch (error) {
    process.stderr.write(`${CONNECTOR}: ${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (!env.ODOO_URL) {
    process.stderr.write(`${CONNECTOR}: ODOO_URL is not set; there is no Odoo to connect to\n`);
    process.exit(EXIT_CONFIG);
  }
  // Before Nest builds the app, whose provider errors it prints with a stack and exit 1; and before
  // the wait for Redis, so a bad file is reported at once.
  const mapping = mappingOrExit(env.ODOO_MAPPING_FILE || undefined);
  // Before the wait for Redis, which may be long: a launcher gone meanwhile is not seen afterwards.
  stopWhenLauncherGoes();
  await redisOrExit(CONNECTOR, env);
  limitHeapGrowth(env.HEAP_GROWING_PERCENT);
  // Stored data keys under a master key it lacks (MasterKeyGuard), or with none set (checkLocalMasterKey): one line and exit 78, as for a bad variable.
  // Redis lost during checkLocalMasterKey's read or the guards': one line and exit 69, as when it is not there at start.
  const app = await createConnectorApp(env, mapping).catch(exitOnStartFailure(CONNECTOR, env));
  app.enableShutdownHooks([], { useProcessExit: true });
  // As the services: a taken port is one line naming the variable to set (PORT, or CONNECTOR_PORT
  // under the launcher, which names it in PORT_VARIABLE) and exit 1, not an unhandled rejection.
  // Once it listens it says so to the launcher, which restarts it (--split) only then: an exit
  // before is a failed start.
  await listenOrExit(CONNECTOR, app, env.PORT ?? DEFAULT_PORT, handedPortVariable(process.env), env.LISTEN_HOST, {
    listening: () => reportListening(CONNECTOR),
  });
}

/** The mapping rules, or one message (ConfigError) and exit 78 for a file that is missing or wrong. */
function mappingOrExit(file: string | undefined): OdooMapping {
  try {
    return loadOdooMapping(file);
  } catch (error) {
    return exitOnConfigError(CONNECTOR)(error);
  }
}

void main();
