import { readFileSync } from 'node:fs';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AgentProfile, AgentRegistry } from '@app/agents';
import { repoFile } from '@app/runtime';

/** Fills an empty agent registry from fixtures/agents.json, so a fresh system has agents to assign. */
@Injectable()
export class AgentSeeder implements OnApplicationBootstrap {
  constructor(
    private readonly registry: AgentRegistry,
    @InjectPinoLogger(AgentSeeder.name) private readonly logger: PinoLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const file = repoFile('fixtures/agents.json');
    const profiles = JSON.parse(readFileSync(file, 'utf8')) as AgentProfile[];
    const added = await this.registry.seedIfEmpty(profiles);
    if (added > 0) this.logger.info({ added, file }, 'agent registry seeded');
  }
}
