import { instrumentProcessFromEnvironment } from '@app/tracing';
import { CONNECTOR } from './connector-keys';

// Imported by main.ts before anything that loads http or ioredis, so that tracing sees them load.
instrumentProcessFromEnvironment(CONNECTOR);
