import { INestApplication } from '@nestjs/common';
import { LogPartitionsGuard } from './log-partitions-guard';
import { MasterKeyGuard } from './master-key-guard';

/**
 * Runs the checks a process of a deployment must pass before it reads or writes anything: the
 * LOG_PARTITIONS the key prefix was set up with, and master keys that unwrap its data keys (both
 * ConfigErrors: one line and exit 78). On a refusal the app is closed before the error goes on.
 * The app's module must provide both guards.
 */
export async function checkDeploymentGuards(app: INestApplication): Promise<void> {
  try {
    await app.get(LogPartitionsGuard).check();
    await app.get(MasterKeyGuard).check();
  } catch (error) {
    await app.close();
    throw error;
  }
}
