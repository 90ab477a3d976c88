import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { AddressRange, parseAllowedHosts } from '@app/config';

/** Resolves a host name to every address it has (as `dns.lookup` with `all: true` does). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

/** The most a check waits for the resolver: no subscription request and no attempt waits on DNS for ever. */
const RESOLVE_TIMEOUT_MS = 3_000;

async function lookupAll(hostname: string): Promise<string[]> {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}

/** `resolve(hostname)`, or a failure once it has not answered within `timeoutMs`. */
async function resolveWithin(resolve: ResolveHost, hostname: string, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer for ${hostname} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([resolve(hostname), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The NAT64 well-known prefix (RFC 6052): its last 32 bits are the IPv4 address it reaches. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * An address of the NAT64 well-known prefix as the IPv4 address it embeds, so it is judged by the
 * same rule (`64:ff9b::7f00:1` is 127.0.0.1); any other address as it is. The other forms that
 * embed an IPv4 address are refused as ipaddr.js ranges them (not `unicast`): the local-use NAT64
 * prefix 64:ff9b:1::/48 (`rfc6052`), 6to4 2002::/16 (`6to4`), Teredo 2001::/32 (`teredo`), SIIT
 * ::ffff:0:0:0/96 (`rfc6145`); ::ffff:0:0/96 is already the IPv4 address (`ipaddr.process`).
 */
function embeddedIPv4(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.kind() !== 'ipv6' || !address.match(NAT64_WELL_KNOWN)) return address;
  return new ipaddr.IPv4((address as ipaddr.IPv6).toByteArray().slice(12));
}

/**
 * Addresses ipaddr.js ranges as `unicast` that must not be called all the same, unless
 * WEBHOOK_ALLOWED_HOSTS lists them: IPv4-compatible IPv6 (::/96, deprecated by RFC 4291, which
 * some stacks route to the embedded IPv4 address: `[::127.0.0.1]` is loopback), and cloud
 * metadata or platform services on public-looking addresses.
 */
const DENIED_RANGES: [string, [ipaddr.IPv4 | ipaddr.IPv6, number]][] = [
  // The first range that holds names the address. :: and ::1 lie in ::/96 but are no IPv4-compatible
  // addresses (RFC 4291 2.5.5.1): named as ipaddr.js names them, a refusal of [::1] says loopback.
  ['unspecified', ipaddr.parseCIDR('::/128')],
  ['loopback', ipaddr.parseCIDR('::1/128')],
  ['ipv4Compatible', ipaddr.parseCIDR('::/96')],
  ['cloudMetadata', ipaddr.parseCIDR('168.63.129.16/32')], // Azure WireServer
  ['cloudMetadata', ipaddr.parseCIDR('100.100.100.200/32')], // Alibaba Cloud metadata (also carrier-grade NAT)
  ['cloudMetadata', ipaddr.parseCIDR('192.0.0.192/32')], // Oracle Cloud metadata (also reserved)
  ['cloudMetadata', ipaddr.parseCIDR('fd00:ec2::254/128')], // AWS metadata over IPv6 (also unique local)
];

function deniedRange(address: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
  return DENIED_RANGES.find(([, [network, bits]]) => network.kind() === address.kind() && address.match(network, bits))?.[0];
}

/**
 * `unresolved`: the host did not resolve now (no answer, a resolver failure, no address): no
 * refusal by the policy, and perhaps not so a minute later.
 */
export type TargetCheck = { ok: true; url: URL; addresses: string[] } | { ok: false; problem: string; unresolved?: true };

/**
 * Which webhook URLs may be called, so that a subscription cannot be used to reach internal
 * services (SSRF). A URL is http(s) without credentials; its host, resolved to every address it
 * has, must be public unicast (not IPv4-compatible IPv6, not a cloud metadata address; an IPv6
 * address that embeds an IPv4 one is judged by that or refused), unless WEBHOOK_ALLOWED_HOSTS lists it: by host name (exactly as in
 * the URL), or by address or CIDR range (matched against what the name resolves to). Checked when a
 * subscription is made and again on every delivery, which then connects to the addresses just
 * checked, so a name that resolves elsewhere later (DNS rebinding) cannot slip past. With
 * WEBHOOK_ONLY_ALLOWED_HOSTS, public addresses need listing too (a closed deployment, the tests).
 */
export class TargetUrlPolicy {
  private readonly names: Set<string>;
  private readonly ranges: AddressRange[];

  constructor(
    /** WEBHOOK_ALLOWED_HOSTS, as parseAllowedHosts reads it (and the start validated it). */
    allowedHosts: string,
    /** WEBHOOK_ONLY_ALLOWED_HOSTS: nothing but the listed hosts, public or not (names not listed are not even resolved). */
    private readonly onlyAllowed = false,
    private readonly resolve: ResolveHost = lookupAll,
  ) {
    ({ names: this.names, ranges: this.ranges } = parseAllowedHosts(allowedHosts));
  }

  /**
   * Whether `url` may be called now, with the addresses to connect to. Never throws. The host's
   * resolution may take `resolveWithinMs` (at most 3 s): an attempt passes what is left of its time.
   */
  async check(raw: string, resolveWithinMs = RESOLVE_TIMEOUT_MS): Promise<TargetCheck> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, problem: 'url must be an absolute http or https URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, problem: 'url must use http or https' };
    if (url.username || url.password) return { ok: false, problem: 'url must not hold credentials' };
    // A subscription stored before port 0 was refused: Node would call 80 or 443, not the URL as stored.
    if (url.port === '0') return { ok: false, problem: 'url must not name port 0' };
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const named = this.names.has(host);
    if (this.onlyAllowed && !named && !ipaddr.isValid(host)) {
      return { ok: false, problem: `url host ${host} is not listed in WEBHOOK_ALLOWED_HOSTS (WEBHOOK_ONLY_ALLOWED_HOSTS is true)` };
    }
    let addresses: string[];
    try {
      addresses = ipaddr.isValid(host) ? [host] : await resolveWithin(this.resolve, host, Math.min(RESOLVE_TIMEOUT_MS, resolveWithinMs));
    } catch (error) {
      return { ok: false, unresolved: true, problem: `url host ${host} does not resolve (${error instanceof Error ? error.message : String(error)})` };
    }
    if (addresses.length === 0) return { ok: false, unresolved: true, problem: `url host ${host} does not resolve` };
    if (!named) {
      for (const address of addresses) {
        const problem = this.addressProblem(address);
        if (problem) return { ok: false, problem: `url host ${host} ${problem}, which WEBHOOK_ALLOWED_HOSTS does not list` };
      }
    }
    return { ok: true, url, addresses };
  }

  private addressProblem(text: string): string | null {
    if (!ipaddr.isValid(text)) return `resolves to ${text}, not an IP address`;
    const address = embeddedIPv4(ipaddr.process(text));
    const range = deniedRange(address) ?? address.range();
    if (range === 'unicast' && !this.onlyAllowed) return null;
    if (this.ranges.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits))) return null;
    return `resolves to ${text} (${this.onlyAllowed ? 'not listed' : range})`;
  }
}
