import { instrumentProcessFromEnvironment } from '@app/tracing';

// Imported by main.ts before anything that loads http or ioredis, so that tracing sees them load.
instrumentProcessFromEnvironment('evaluator');
