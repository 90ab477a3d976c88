import { ConfigError } from '@app/config';

/**
 * A ConfigError (one line, exit 78): a start with neither DATA_KEY_SECRET nor DATA_KEY_FILE and no
 * local master key yet, against a key prefix whose data keys are wrapped under `wrappedUnder`. A
 * key generated now could unwrap none of them, and the start-up check would refuse it anyway, so
 * none is: it would stay behind in `localKeyFile` as the one to back up, and be used next time.
 */
export class MasterKeyNotSetError extends ConfigError {
  constructor(keyPrefix: string, wrappedUnder: readonly string[], localKeyFile: string) {
    super([
      `the data keys under KEY_PREFIX=${keyPrefix} are wrapped under master key ${wrappedUnder.join(', ')}, and neither DATA_KEY_SECRET nor ` +
        `DATA_KEY_FILE is set: set one of them to that master key (no local key was generated into ${localKeyFile}: a new one could unwrap none of them)`,
    ]);
    this.name = 'MasterKeyNotSetError';
  }
}
