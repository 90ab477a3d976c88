import { UnreadableLogEntry } from '@app/event-store';
import { MissionEvent } from '@app/mission';
import { RedisConnection } from '@app/redis';

/** Events read from one log stream, in log order, to be applied in one step. */
export interface ProjectionBatch {
  /** The log stream the events come from. */
  readonly stream: string;
  /** The stream's checkpoint the batch was read after ('' when read from the start). */
  readonly after: string;
  /** Id of the batch's last log entry: the stream's checkpoint once the batch is applied. */
  readonly lastId: string;
  /** Log entries in the batch; the lag in events counts these. */
  readonly entries: number;
  /** Parsed when first read (see TailedBatch): a projection that needs none of them does not pay for them. */
  readonly events: readonly MissionEvent[];
  /**
   * The entries of the batch whose event cannot be read (a log changed by hand), left out of
   * `events`: a projection passes over them, as retrying the batch would only meet them again.
   * Known once `events` was read (empty before: a projection that needs no events parses none).
   */
  readonly unreadable: readonly UnreadableLogEntry[];
}

export type ApplyOutcome =
  /** `ignored`: events whose version was not newer than the last one applied to their mission. */
  | { kind: 'applied'; applied: number; ignored: number }
  /** The stream's checkpoint is not `after` (another runner, or a rebuild, moved it): nothing written. */
  | { kind: 'stale'; checkpoint: string };

/**
 * An asynchronous read model driven by the event log. `apply` writes the read model change and
 * moves the stream's checkpoint (projectionCheckpointKey) in one Lua script call, and only when the
 * checkpoint is still `batch.after`; so a batch is applied exactly once, whoever runs it.
 */
export interface Projection {
  /** Kebab-case; names its keys, its metrics and the CLI's `projections rebuild <name>`. */
  readonly name: string;
  /** The read model's keys (not the checkpoint): what a rebuild from scratch deletes. */
  readonly readModelKeys: readonly string[];
  apply(redis: RedisConnection, batch: ProjectionBatch): Promise<ApplyOutcome>;
  /**
   * Whether the log's events are of any use to it now. When not (a webhook outbox without
   * subscriptions), the runner moves the checkpoint over the log's entries without reading them:
   * applied as a batch with no events. The runner reads how far the log goes before it asks, so an
   * answer of no covers only entries appended before it was given. Absent: always of use.
   */
  wantsEvents?(redis: RedisConnection): Promise<boolean>;
}
