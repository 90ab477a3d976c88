import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ApiClient } from './api-client';
import { ApiKey } from './api-key';

interface StoredKey {
  client: ApiClient;
  digest: Buffer;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Finds the key a request presents without leaking, through response timing, how much of a
 * secret matched or which key it was: digests have one length (timingSafeEqual needs that, and
 * raw secrets would leak their length), and every key is compared even after a match.
 */
export class ApiKeyStore {
  private readonly keys: readonly StoredKey[];

  constructor(keys: readonly ApiKey[]) {
    this.keys = keys.map((key) => ({ client: { name: key.name, role: key.role }, digest: sha256(key.secret) }));
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * The named key's caller and the signing keys derived from its secrets for `purpose`, to sign
   * what is handed to that key's holder (stream tokens): the first secret in API_KEYS signs, and
   * what any of them signed is accepted, so a rotation (a second secret for the name, then the
   * first removed) voids nothing signed under the secret that stays. Every instance with the same
   * API_KEYS derives the same ones, and removing a secret voids what was signed with it.
   */
  signingKeys(name: string, purpose: string): { client: ApiClient; keys: Buffer[] } | undefined {
    const named = this.keys.filter((key) => key.client.name === name);
    if (named.length === 0) return undefined;
    return { client: { ...named[0].client }, keys: named.map((key) => createHmac('sha256', key.digest).update(purpose).digest()) };
  }

  /**
   * The keys that seal what a client key is handed but must not read (its list cursors, its stream
   * positions: both pass other keys' missions), derived for `purpose`; undefined for any other
   * role, which sees every mission. The newest secret (the last listed for the name) seals, any
   * opens: a rotation lists the new secret after the old one, then removes the old, so what was
   * sealed from its first step on still opens after its last.
   */
  clientSealingKeys(caller: ApiClient, purpose: string): Buffer[] | undefined {
    if (caller.role !== 'client') return undefined;
    const signing = this.signingKeys(caller.name, purpose);
    // The guard (or a stream token) attached the caller from this very store.
    if (!signing) throw new Error(`no API key named ${caller.name}`);
    return [...signing.keys].reverse();
  }

  /** The caller behind a presented secret; undefined for an empty or unknown one. */
  find(presented: string): ApiClient | undefined {
    const digest = sha256(presented);
    let found: StoredKey | undefined;
    for (const key of this.keys) {
      const equal = timingSafeEqual(digest, key.digest);
      found = equal ? key : found;
    }
    return presented.length > 0 && found ? { ...found.client } : undefined;
  }
}
