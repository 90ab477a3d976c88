import { isIP } from 'node:net';
import { ValidationOptions } from 'class-validator';
import ipaddr from 'ipaddr.js';
import { isHostName } from './host-name';
import { IsParsedBy } from './parsed-by';

/** An address range: a network address and its prefix length (a single address is a /32 or /128). */
export type AddressRange = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** WEBHOOK_ALLOWED_HOSTS read: host names exactly as a URL's host has them, and address ranges. */
export interface AllowedHosts {
  names: Set<string>;
  ranges: AddressRange[];
}

const EXAMPLE = 'e.g. hooks.internal,10.0.0.5,10.1.0.0/16,[fd00::1],fd00::/8';

/**
 * Parses WEBHOOK_ALLOWED_HOSTS (comma-separated; blank entries skipped; case does not matter): each
 * entry is an IP address (IPv6 with or without brackets), a CIDR range `address/prefix` (0-32 for
 * IPv4, 0-128 for IPv6), or a host name written as a URL's host is (`new URL('http://<entry>/')`
 * gives it back unchanged: no port, no path, punycode rather than Unicode). Anything else would
 * never match a webhook URL, so it is refused, naming the entry by position.
 */
export function parseAllowedHosts(text: string): AllowedHosts {
  const allowed: AllowedHosts = { names: new Set(), ranges: [] };
  const entries = text.split(',').map((entry) => entry.trim().toLowerCase());
  entries.forEach((entry, index) => {
    if (entry === '') return;
    const where = `WEBHOOK_ALLOWED_HOSTS entry ${index + 1} (${JSON.stringify(entry)})`;
    const bare = entry.replace(/^\[(.*)\]$/, '$1');
    if (bare.includes('/')) {
      allowed.ranges.push(parseRange(bare, where));
    } else if (isIP(bare)) {
      const address = ipaddr.process(bare);
      allowed.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else {
      allowed.names.add(parseHostName(entry, where));
    }
  });
  return allowed;
}

function parseRange(text: string, where: string): AddressRange {
  const slash = text.lastIndexOf('/');
  const [address, prefix] = [text.slice(0, slash), text.slice(slash + 1)];
  const version = isIP(address);
  if (!version) throw new Error(`${where} is not a CIDR range: ${JSON.stringify(address)} is not an IP address, ${EXAMPLE}`);
  const most = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > most) {
    throw new Error(`${where} is not a CIDR range: the prefix length of an IPv${version} range is 0-${most}, not ${JSON.stringify(prefix)}`);
  }
  return ipaddr.parseCIDR(`${address}/${Number(prefix)}`);
}

function parseHostName(entry: string, where: string): string {
  let host: string;
  try {
    host = new URL(`http://${entry}/`).hostname;
  } catch {
    throw new Error(`${where} is neither an IP address, a CIDR range nor a host name, ${EXAMPLE}`);
  }
  if (!isHostName(host)) throw new Error(`${where} is not a host name (letters, digits, - and _ between dots; no wildcards), ${EXAMPLE}`);
  if (host !== entry) {
    throw new Error(`${where} is not a host name as a URL has it (a URL with it has host ${JSON.stringify(host)}): list the host alone, ${EXAMPLE}`);
  }
  return host;
}

/** class-validator rule that reports parseAllowedHosts' own message, so the start and the webhook policy never disagree. */
export function IsAllowedHostList(options?: ValidationOptions): PropertyDecorator {
  return IsParsedBy('isAllowedHostList', 'WEBHOOK_ALLOWED_HOSTS', parseAllowedHosts, options);
}
