import { KeyLayout } from '@app/event-store';
import { GuestDataKeys } from '@app/guest-data';
import { logPartitionsKey } from '@app/runtime';
import { WebhookKeys } from '@app/webhooks';
import { isLegacyKeyPrefix, isLegacyPrefixKey } from '../../scripts/legacy-prefix';

/** Every key name a builder gives: its getters, and its methods called with placeholder arguments. */
function keyNames(builder: object): string[] {
  const names: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === 'string') names.push(value);
    else if (Array.isArray(value)) value.forEach(add);
  };
  for (const [member, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(builder)))) {
    if (member === 'constructor') continue;
    if (descriptor.get) add(descriptor.get.call(builder));
    else if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: string[]) => unknown;
      // Only the key builders (they take ids and names); the others take numbers, arrays or nothing.
      if (method.length > 0 && method.length <= 2 && !['partitionOf', 'groupByPartition', 'of'].includes(member)) add(method.apply(builder, ['x', 'y']));
    }
  }
  return names.filter((name) => name !== (builder as { prefix?: string }).prefix && !name.endsWith('*'));
}

/** The key names a deployment under `prefix` writes, as far as the builders tell. */
function deploymentKeys(prefix: string): string[] {
  const layout = new KeyLayout(prefix, 2);
  return [
    ...keyNames(layout),
    ...layout.partitions.flatMap(keyNames),
    ...keyNames(new GuestDataKeys(prefix)),
    ...new GuestDataKeys(prefix).subjectKeyHashes,
    ...keyNames(new WebhookKeys(layout)),
    logPartitionsKey(prefix),
  ];
}

describe('the keys of a legacy prefix (no closing ":"), which replay purge deletes', () => {
  it('given the prefixes the services took before the closing ":" was required, then those without it are legacy', () => {
    expect(['hotel', 'brain-prod', 'a:b', 'x.y_z'].filter(isLegacyKeyPrefix)).toEqual(['hotel', 'brain-prod', 'a:b', 'x.y_z']);
    expect(['', 'hotel:', 'brain:', 'ho tel', 'hotel*', 'hotel{x}'].filter(isLegacyKeyPrefix)).toEqual([]);
  });

  it("given every key the builders name, then each of the deployment's is its own and none of a prefix it is the start of", () => {
    const own = deploymentKeys('hotel');
    expect(own.length).toBeGreaterThan(60);
    expect(own.filter((key) => !isLegacyPrefixKey('hotel', key))).toEqual([]);
    for (const other of ['hotel:', 'hotel-other:', 'hotel2', 'hotelretention:', 'hotelconfig:', 'hotel.x']) {
      expect(deploymentKeys(other).filter((key) => isLegacyPrefixKey('hotel', key))).toEqual([]);
    }
  });
});
