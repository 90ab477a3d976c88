import 'reflect-metadata';
import './instrumentation';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadEnvironment } from '@app/config';
import { QuietNestLogger } from '@app/logging';
import { limitHeapGrowth, listenOn, redisOrExit, stopWhenLauncherGoes } from '@app/runtime';
import { ConnectorOdooModule } from './connector-odoo.module';

/** The connector's own port when PORT is not set (the four services use 3000–3003). */
const DEFAULT_PORT = 3004;

async function main(): Promise<void> {
  let env;
  try {
    env = loadEnvironment();
  } catch (error) {
    process.stderr.write(`connector-odoo: ${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(78);
  }
  if (!env.ODOO_URL) {
    process.stderr.write('connector-odoo: ODOO_URL is not set; there is no Odoo to connect to\n');
    process.exit(78);
  }
  // Before the wait for Redis, which may be long: a launcher gone meanwhile is not seen afterwards.
  stopWhenLauncherGoes();
  await redisOrExit('connector-odoo', env);
  limitHeapGrowth(env.HEAP_GROWING_PERCENT);
  const app = await NestFactory.create(ConnectorOdooModule.register(env), { bufferLogs: true, bodyParser: false });
  app.useLogger(new QuietNestLogger(app.get(Logger)));
  app.enableShutdownHooks([], { useProcessExit: true });
  await listenOn(app, env.PORT ?? DEFAULT_PORT, env.LISTEN_HOST);
}

void main();
