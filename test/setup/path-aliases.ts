/**
 * Jest loads globalSetup and globalTeardown with Node's own module resolution: the moduleNameMapper
 * of jest.config.js applies only inside the test environments. This teaches that resolution the
 * `@app/<lib>` paths of tsconfig.json, so the setup code imports libs (and scripts/) the way all
 * other code does. Import it first.
 */
import * as path from 'node:path';
import { loadConfig, register } from 'tsconfig-paths';

const config = loadConfig(path.resolve(__dirname, '../..'));
if (config.resultType === 'failed') throw new Error(`test setup: cannot read tsconfig.json: ${config.message}`);
register({ baseUrl: config.absoluteBaseUrl, paths: config.paths });
