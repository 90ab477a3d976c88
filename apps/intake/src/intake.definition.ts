import { ServiceDefinition } from '@app/runtime';
import { configureHttp } from './http/configure-http';
import { IntakeModule } from './intake.module';
import { submissionPoisonFields } from './missions/submission-poison-fields';

export const intakeService: ServiceDefinition = {
  name: 'intake',
  defaultPort: 3000,
  module: (env) => IntakeModule.register(env),
  configureHttp,
  poisonFields: submissionPoisonFields,
  // What the REST API reads of a body at most, for the same commands sent over the stream.
  outsideDataLimit: (env) => ({ bytes: env.BODY_LIMIT_BYTES, setting: 'BODY_LIMIT_BYTES' }),
};
