import { Finding, verifyPartition } from '@app/audit';
import { PartitionKeys } from '@app/event-store';
import { RedisConnection } from '@app/redis';

/**
 * What `replay verify` finds in a partition's hash chains, versions and heads, through the path it
 * runs (verifyPartition): its findings without those of the read-model comparison, which a change
 * to the log also brings about (a replay that breaks, a read model that no longer matches).
 */
export async function chainFindings(redis: RedisConnection, keys: PartitionKeys): Promise<Finding[]> {
  const { findings } = await verifyPartition(redis, keys);
  return findings.filter((finding) => finding.kind !== 'read-model-drift' && finding.kind !== 'unreplayable');
}
