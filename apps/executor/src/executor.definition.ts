import { ServiceDefinition } from '@app/runtime';
import { ExecutorModule } from './executor.module';

export const executorService: ServiceDefinition = {
  name: 'executor',
  defaultPort: 3002,
  module: (env) => ExecutorModule.register(env),
};
