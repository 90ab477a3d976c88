import { instrumentProcessFromEnvironment } from '@app/tracing';

// Imported by one-process.ts before anything that loads http or ioredis, so that tracing sees them load.
instrumentProcessFromEnvironment('one-process');
