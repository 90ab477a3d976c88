import { isIPv4, isIPv6 } from 'node:net';
import { ValidationOptions } from 'class-validator';
import ipaddr from 'ipaddr.js';
import { isHostName } from './host-name';
import { IsParsedBy } from './parsed-by';

/** One seed node of a Redis Cluster; the client discovers the others from it. */
export interface ClusterNodeAddress {
  host: string;
  port: number;
}

const EXAMPLE = 'e.g. 10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000';
// A bracketed IPv6 address, or a host name / IPv4 address without a colon, then ":port".
const ENTRY = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/;

/**
 * Parses a comma-separated `host:port` list (`[ipv6]:port` for an IPv6 address). Blank entries (a
 * trailing comma) are skipped, and the error names the first bad entry by position, so a typo in a
 * long list is found at once.
 */
export function parseClusterNodes(text: string): ClusterNodeAddress[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error(`REDIS_CLUSTER_NODES lists no node; expected host:port entries, ${EXAMPLE}`);
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const match = ENTRY.exec(entry);
    const where = `REDIS_CLUSTER_NODES entry ${index + 1} (${JSON.stringify(entry)})`;
    if (!match) throw new Error(`${where} is not host:port, ${EXAMPLE}`);
    const port = Number(match[3]);
    if (port < 1 || port > 65535) throw new Error(`${where} has port ${port}, outside 1-65535`);
    const host = match[1] ?? match[2];
    if (match[1] !== undefined ? !isIPv6(host) : !(isIPv4(host) || isHostName(host))) {
      throw new Error(
        `${where} names no host: ${match[1] !== undefined ? 'an IPv6 address' : 'an IPv4 address or a host name'} goes before the port, ${EXAMPLE}`,
      );
    }
    // The same node spelled two ways (`A` and `a`, `a.` and `a`, `::1` and `0:0::1`) is still a repeat.
    const key = `${match[1] !== undefined ? ipaddr.parse(host).toNormalizedString() : host.toLowerCase().replace(/\.$/, '')}:${port}`;
    if (seen.has(key)) throw new Error(`${where} repeats an earlier entry`);
    seen.add(key);
    return { host, port };
  });
}

/** class-validator rule that reports parseClusterNodes' own message, so validation and use never disagree. */
export function IsClusterNodeList(options?: ValidationOptions): PropertyDecorator {
  return IsParsedBy('isClusterNodeList', 'REDIS_CLUSTER_NODES', parseClusterNodes, options);
}
