import { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { QuietNestLogger } from '@app/logging';
import { checkDeploymentGuards, checkLocalMasterKey, guardHttpServer, startBeforeServing, UnknownRouteFilter } from '@app/runtime';
import { CONNECTOR } from './connector-keys';
import { ConnectorOdooModule } from './connector-odoo.module';
import { OdooMapping } from './odoo-mapping';

/**
 * Builds the connector, not yet started: main.ts listens, tests init. Like the four services
 * (createServiceApp) it refuses to be built under another LOG_PARTITIONS than its key prefix's (it
 * follows the log's partitions and submits missions hashed by their count) or when the stored data
 * keys need a master key it lacks (it opens every result it posts to Odoo): checked before init,
 * so no poll or write-back runs, rather than reading the wrong partitions or failing every
 * write-back one by one. `mapping`: the rules main.ts checked already; by default ODOO_MAPPING_FILE's.
 */
export async function createConnectorApp(env: Environment, mapping?: OdooMapping): Promise<INestApplication> {
  // Before the build, which would generate a local master key useless for this prefix's data keys.
  await checkLocalMasterKey(env, CONNECTOR);
  const app = await NestFactory.create(ConnectorOdooModule.register(env, mapping), { bufferLogs: true, bodyParser: false });
  app.useLogger(new QuietNestLogger(app.get(Logger)));
  guardHttpServer(app.getHttpServer() as Server, env);
  app.useGlobalFilters(new UnknownRouteFilter('docs/operations.md, "Odoo connector"', app.getHttpAdapter()));
  // Bounded should Redis go away meanwhile (exit 69); the app closed on a refusal.
  await startBeforeServing(app, env, () => checkDeploymentGuards(app));
  return app;
}
