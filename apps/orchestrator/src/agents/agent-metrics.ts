import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AgentRegistry } from '@app/agents';
import { MetricsRegistry } from '@app/runtime';

/** Each agent's load, capacity and credits, read from the registry at scrape time. */
@Injectable()
export class AgentMetrics {
  constructor(registry: MetricsRegistry, agents: AgentRegistry) {
    new Gauge({
      name: 'brain_agent',
      help: 'Per-agent figures: load (missions held), capacity, credits',
      labelNames: ['agent', 'figure'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const agent of await agents.snapshot()) {
          this.set({ agent: agent.id, figure: 'load' }, agent.load);
          this.set({ agent: agent.id, figure: 'capacity' }, agent.capacity);
          this.set({ agent: agent.id, figure: 'credits' }, agent.credits);
        }
      },
    });
  }
}
