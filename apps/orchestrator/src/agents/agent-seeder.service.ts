import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AgentProfile, AgentRegistry, readAgentProfiles } from '@app/agents';
import { repoFile } from '@app/runtime';

/** The agents a fresh registry is seeded with: fixtures/agents.json, read and checked while the orchestrator is built. */
export const AGENT_PROFILES = Symbol('AGENT_PROFILES');

/** The agents file, relative to the repository. */
export const SEED_FILE = 'fixtures/agents.json';

/** The AGENT_PROFILES provider: a bad file is a ConfigError (exit 78) naming every problem, before anything starts. */
export function seedProfiles(): AgentProfile[] {
  return readAgentProfiles(repoFile(SEED_FILE));
}

/** Fills the agent registry from fixtures/agents.json (AgentRegistry.seedMissing), so a fresh system has agents to assign. */
@Injectable()
export class AgentSeeder implements OnApplicationBootstrap {
  constructor(
    private readonly registry: AgentRegistry,
    @Inject(AGENT_PROFILES) private readonly profiles: AgentProfile[],
    @InjectPinoLogger(AgentSeeder.name) private readonly logger: PinoLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const added = await this.registry.seedMissing(this.profiles);
    if (added > 0) this.logger.info({ added, file: SEED_FILE }, 'agent registry seeded');
  }
}
