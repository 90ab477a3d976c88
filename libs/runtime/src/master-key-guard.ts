import { Inject, Injectable } from '@nestjs/common';
import { ConfigError, Environment } from '@app/config';
import { MASTER_KEY_REMEDY, MissionPersonalData } from '@app/guest-data';
import { ENVIRONMENT } from './tokens';

/** A ConfigError: the service stops with its message and exit 78, as for a bad variable. */
export class MasterKeyMismatchError extends ConfigError {
  constructor(keyPrefix: string, missing: readonly string[], configured: readonly string[]) {
    super([
      `the data keys under KEY_PREFIX=${keyPrefix} are wrapped under master key ${missing.join(', ')}, which is not configured ` +
        `(configured: ${configured.join(', ')}): ${MASTER_KEY_REMEDY} (a local run without DATA_KEY_SECRET or DATA_KEY_FILE uses .data/data-key)`,
    ]);
    this.name = 'MasterKeyMismatchError';
  }
}

/**
 * A process whose master keys cannot unwrap the deployment's data keys refuses to start, instead of
 * reporting ready and failing every request and attempt that opens guest data (e.g. a local run
 * restarted without DATA_KEY_SECRET after a rotation, back on the old key in `.data/data-key`).
 * Checks a sample of the key records (SubjectKeyStore.masterKeysNotConfigured), so it costs the
 * same on any deployment; createServiceApp runs it before the stream consumer starts.
 */
@Injectable()
export class MasterKeyGuard {
  constructor(
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly personalData: MissionPersonalData,
  ) {}

  async check(): Promise<void> {
    const { store } = this.personalData.cipher;
    const missing = await store.masterKeysNotConfigured();
    if (missing.length > 0) throw new MasterKeyMismatchError(this.env.KEY_PREFIX, missing, store.ring.ids);
  }
}
