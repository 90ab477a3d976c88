import { DynamicModule, Logger, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AgentRegistry } from '@app/agents';
import { Environment, odooSinceOf } from '@app/config';
import { KeyLayout, MISSION_HASH_FIELDS, MissionStore, readMissionFields } from '@app/event-store';
import { MissionPersonalData } from '@app/guest-data';
import { LoggingModule } from '@app/logging';
import { MissionClient } from '@app/mission-client';
import { createRedisConnection, RedisConnection } from '@app/redis';
import {
  ENVIRONMENT,
  HttpDrain,
  keyLayoutOf,
  LogPartitionsGuard,
  logRedisError,
  MasterKeyGuard,
  MetricsController,
  MetricsRegistry,
  personalDataOf,
  REDIS,
} from '@app/runtime';
import { ServiceTracer } from '@app/tracing';
import { ConnectorHealthController } from './connector-health.controller';
import { ConnectorHost } from './connector-host';
import { CONNECTOR, ConnectorKeys } from './connector-keys';
import { ConnectorMetrics } from './connector-metrics';
import { OdooClient } from './odoo-client';
import { loadOdooMapping, OdooMapping } from './odoo-mapping';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { OdooPoller } from './odoo-poller';
import { OdooRefusals } from './odoo-refusals';
import { OdooWriteBack } from './odoo-write-back';

const MAPPING = Symbol('ODOO_MAPPING');

const refusalLogger = new Logger('OdooRefusals');

/**
 * The Odoo connector as a service of its own: it takes Odoo records in as missions (over the
 * intake stream) and writes successful results back to their chatter. It has no stream consumer of
 * its own: it follows the mission log.
 */
@Module({})
export class ConnectorOdooModule {
  static register(env: Environment, mapping: OdooMapping = loadOdooMapping(env.ODOO_MAPPING_FILE || undefined)): DynamicModule {
    return {
      module: ConnectorOdooModule,
      imports: [LoggingModule.forRoot(env, CONNECTOR), TerminusModule.forRoot({ logger: false })],
      controllers: [ConnectorHealthController, MetricsController],
      providers: [
        { provide: ENVIRONMENT, useValue: env },
        { provide: REDIS, useFactory: () => createRedisConnection(env, { name: `${CONNECTOR}-commands`, log: logRedisError }) },
        { provide: KeyLayout, useValue: keyLayoutOf(env) },
        { provide: MetricsRegistry, inject: [REDIS], useFactory: (redis: RedisConnection) => new MetricsRegistry(CONNECTOR, redis) },
        { provide: ServiceTracer, useValue: ServiceTracer.of(CONNECTOR, env) },
        { provide: MAPPING, useValue: mapping },
        { provide: ConnectorKeys, inject: [KeyLayout], useFactory: (keys: KeyLayout) => new ConnectorKeys(keys) },
        { provide: MissionStore, inject: [REDIS, KeyLayout], useFactory: (redis: RedisConnection, keys: KeyLayout) => new MissionStore(redis, keys) },
        // The connector opens results to post them to Odoo (OdooWriteBack): its master keys must unwrap the deployment's data keys.
        { provide: MissionPersonalData, inject: [REDIS], useFactory: (redis: RedisConnection) => personalDataOf(redis, env) },
        MasterKeyGuard,
        LogPartitionsGuard,
        HttpDrain,
        {
          provide: OdooClient,
          useFactory: () =>
            new OdooClient({ url: env.ODOO_URL, db: env.ODOO_DB, login: env.ODOO_LOGIN, apiKey: env.ODOO_API_KEY, timeoutMs: env.ODOO_TIMEOUT_MS }),
        },
        { provide: OdooMissionIdentity, useValue: new OdooMissionIdentity(env.ODOO_API_KEY) },
        {
          provide: ConnectorMetrics,
          inject: [MetricsRegistry, REDIS, ConnectorKeys],
          useFactory: (registry: MetricsRegistry, redis: RedisConnection, keys: ConnectorKeys) => new ConnectorMetrics(registry, redis, keys),
        },
        {
          provide: OdooRefusals,
          inject: [OdooClient, REDIS, ConnectorKeys, KeyLayout, MissionStore],
          useFactory: (odoo: OdooClient, redis: RedisConnection, keys: ConnectorKeys, layout: KeyLayout, store: MissionStore) =>
            new OdooRefusals(odoo, redis, keys, layout, store, new AgentRegistry(redis, layout), env.ODOO_POST_AS),
        },
        {
          provide: OdooPoller,
          inject: [OdooClient, REDIS, ConnectorKeys, MAPPING, OdooRefusals, ConnectorMetrics, OdooMissionIdentity, ServiceTracer],
          useFactory: (
            odoo: OdooClient,
            redis: RedisConnection,
            keys: ConnectorKeys,
            mapping: OdooMapping,
            refusals: OdooRefusals,
            metrics: ConnectorMetrics,
            identity: OdooMissionIdentity,
            tracer: ServiceTracer,
          ) =>
            new OdooPoller(
              odoo,
              new MissionClient(redis, env.KEY_PREFIX, env.LOG_PARTITIONS),
              redis,
              keys,
              mapping,
              refusals,
              {
                pollMs: env.ODOO_POLL_MS,
                timeoutMs: env.ODOO_TIMEOUT_MS,
                lookbackMs: env.ODOO_LOOKBACK_MS,
                since: odooSinceOf(env.ODOO_SINCE),
                maxMissionTextBytes: env.MAX_MISSION_TEXT_BYTES,
                onNoteFailure: (refusal, error) => {
                  metrics.refusalNoteFailed();
                  refusalLogger.warn(
                    `refusal note for ${refusal.model} ${refusal.recordId} not posted, tried again later: ${error instanceof Error ? error.message : String(error)}`,
                  );
                },
              },
              identity,
              tracer,
            ),
        },
        {
          provide: OdooWriteBack,
          inject: [OdooClient, MissionStore, REDIS, ConnectorKeys, MAPPING, ConnectorMetrics, MissionPersonalData, KeyLayout, ServiceTracer],
          useFactory: (
            odoo: OdooClient,
            store: MissionStore,
            redis: RedisConnection,
            keys: ConnectorKeys,
            mapping: OdooMapping,
            metrics: ConnectorMetrics,
            personal: MissionPersonalData,
            layout: KeyLayout,
            tracer: ServiceTracer,
          ) =>
            new OdooWriteBack(odoo, store, redis, keys, mapping, personal, {
              postAs: env.ODOO_POST_AS,
              backoffMs: env.ODOO_BACKOFF_MS,
              timeoutMs: env.ODOO_TIMEOUT_MS,
              onPosted: () => metrics.resultPosted(),
              onFailure: () => metrics.writeBackFailed(),
              tracing: { tracer, traceParents: (ids) => readMissionFields(redis, layout, ids, MISSION_HASH_FIELDS.traceParent) },
            }),
        },
        ConnectorHost,
      ],
    };
  }
}
