import { ServiceDefinition } from '@app/runtime';
import { EvaluatorModule } from './evaluator.module';

export const evaluatorService: ServiceDefinition = {
  name: 'evaluator',
  defaultPort: 3003,
  module: (env) => EvaluatorModule.register(env),
};
