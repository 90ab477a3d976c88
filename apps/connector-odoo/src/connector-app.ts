import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { QuietNestLogger } from '@app/logging';
import { MasterKeyGuard } from '@app/runtime';
import { ConnectorOdooModule } from './connector-odoo.module';

/**
 * Builds the connector, not yet started: main.ts listens, tests init. It opens every result it
 * posts to Odoo, so like the four services (createServiceApp) it refuses to be built when the
 * stored data keys need a master key it lacks (MasterKeyGuard, a ConfigError): checked before
 * init, so no poll or write-back runs, rather than failing every write-back one by one.
 */
export async function createConnectorApp(env: Environment): Promise<INestApplication> {
  const app = await NestFactory.create(ConnectorOdooModule.register(env), { bufferLogs: true, bodyParser: false });
  app.useLogger(new QuietNestLogger(app.get(Logger)));
  try {
    await app.get(MasterKeyGuard).check();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}
