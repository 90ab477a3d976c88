import Redis from 'ioredis';
import { PrivateRedis } from './private-redis';
import { Scenario } from './scenario';

/** A scenario whose services run against a redis-server of its own, which the test stops and starts under them. */
export interface ScenarioOnPrivateRedis {
  redisServer: PrivateRedis;
  scenario: Scenario;
  /** An internal sender as a service would create it: ioredis defaults (20 retries per command). */
  submitter: Redis;
  /** Stops the sender and the services, deletes the scenario's keys, then the server and its files. */
  close(): Promise<void>;
}

/** Starts the server, then the services against it; what started is closed again when a step fails. */
export async function startScenarioOnPrivateRedis(name: string): Promise<ScenarioOnPrivateRedis> {
  const redisServer = new PrivateRedis();
  let scenario: Scenario | undefined;
  let submitter: Redis | undefined;
  const close = async () => {
    submitter?.disconnect();
    await scenario?.close();
    await redisServer.destroy();
  };
  try {
    await redisServer.start();
    scenario = new Scenario(name, { redisUrl: redisServer.url });
    submitter = new Redis(redisServer.url);
    submitter.on('error', () => undefined);
    await scenario.processes.start();
    return { redisServer, scenario, submitter, close };
  } catch (error) {
    await close();
    throw error;
  }
}
