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

/**
 * `unresolved`: the host did not resolve now (no answer, a resolver failure, no address): no
 * refusal by the policy, and perhaps not so a minute later.
 */
export type TargetCheck = { ok: true; url: URL; addresses: string[] } | { ok: false; problem: string; unresolved?: true };

/**
 * Which webhook URLs may be called, so that a subscription cannot be used to reach internal
 * services (SSRF). A URL is http(s) without credentials; its host, resolved to every address it
 * has, must be public unicast, unless WEBHOOK_ALLOWED_HOSTS lists it: by host name (exactly as in
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
    const address = ipaddr.process(text);
    const range = address.range();
    if (range === 'unicast' && !this.onlyAllowed) return null;
    if (this.ranges.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits))) return null;
    return `resolves to ${text} (${this.onlyAllowed ? 'not listed' : range})`;
  }
}
