import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';

export function keyLayoutOf(env: Environment): KeyLayout {
  return new KeyLayout(env.KEY_PREFIX, env.LOG_PARTITIONS);
}
