import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AgentProfile, AgentRegistry, readAgentProfiles } from '@app/agents';
import { RedisConnection } from '@app/redis';
import { PeriodicTask, REDIS, repoFile } from '@app/runtime';

/** The agents a fresh registry is seeded with: fixtures/agents.json, read and checked while the orchestrator is built. */
export const AGENT_PROFILES = Symbol('AGENT_PROFILES');

/** The agents file, relative to the repository. */
export const SEED_FILE = 'fixtures/agents.json';

/** The AGENT_PROFILES provider: a bad file is a ConfigError (exit 78) naming every problem, before anything starts. */
export function seedProfiles(): AgentProfile[] {
  return readAgentProfiles(repoFile(SEED_FILE));
}

/** How often a running orchestrator checks that the registry still holds the seeded agents: one HKEYS. */
export const RESEED_CHECK_MS = 5_000;

/**
 * Fills the agent registry from fixtures/agents.json (AgentRegistry.seedMissing), so a fresh system
 * has agents to assign: at start, and again whenever the registry has lost them while running. A
 * Redis restarted without its data (no persistence, a replica promoted empty) comes back with no
 * agents; the consumer groups are recreated, missions are accepted, and none was ever assigned
 * until the orchestrator was restarted. A registry with agents of the operator's own is left as
 * it is, as at start.
 */
@Injectable()
export class AgentSeeder implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;
  private seeded = false;

  constructor(
    private readonly registry: AgentRegistry,
    @Inject(AGENT_PROFILES) private readonly profiles: AgentProfile[],
    @Inject(REDIS) redis: RedisConnection,
    @InjectPinoLogger(AgentSeeder.name) private readonly logger: PinoLogger,
  ) {
    this.task = new PeriodicTask(
      () => this.seed(),
      (error) => this.logger.warn({ err: error }, 'checking the agent registry failed'),
      redis,
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.seed();
    this.task.start(RESEED_CHECK_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  private async seed(): Promise<void> {
    const added = await this.registry.seedMissing(this.profiles);
    if (added === 0) {
      this.seeded = true;
      return;
    }
    if (this.seeded)
      this.logger.warn({ added, file: SEED_FILE }, 'the agent registry had lost its agents (Redis restarted without its data?); seeded it again');
    else this.logger.info({ added, file: SEED_FILE }, 'agent registry seeded');
    this.seeded = true;
  }
}
