import { ServiceDefinition } from '@app/runtime';
import { OrchestratorModule } from './orchestrator.module';

export const orchestratorService: ServiceDefinition = {
  name: 'orchestrator',
  defaultPort: 3001,
  module: (env) => OrchestratorModule.register(env),
};
