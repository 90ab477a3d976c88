import { INestApplication } from '@nestjs/common';
import { LogPartitionsGuard } from './log-partitions-guard';
import { MasterKeyGuard } from './master-key-guard';

/**
 * Runs the checks a process of a deployment must pass before it reads or writes anything: the
 * LOG_PARTITIONS the key prefix was set up with, and master keys that unwrap its data keys (both
 * ConfigErrors: one line and exit 78). Run it within startBeforeServing, which bounds it should
 * Redis go away and closes the app on a refusal. The app's module must provide both guards.
 */
export async function checkDeploymentGuards(app: INestApplication): Promise<void> {
  await app.get(LogPartitionsGuard).check();
  await app.get(MasterKeyGuard).check();
}
