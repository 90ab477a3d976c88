import { isServiceActor, Mission } from '@app/mission';

export const ROLES = ['reader', 'submitter', 'reviewer', 'operator', 'client'] as const;

export type Role = (typeof ROLES)[number];

/**
 * What each role may do, as the roles whose routes it may call: a reader reads, a submitter also
 * creates and cancels, a reviewer reads and approves or rejects results, an operator does all but
 * what is a client's own. A client (an external system: a booking partner, another property)
 * holds none of them: it calls only the routes marked @OpenToClients, on its own missions, so a
 * route added later is closed to it until someone decides it is safe.
 */
const GRANTS: Readonly<Record<Role, readonly Role[]>> = {
  reader: ['reader'],
  submitter: ['reader', 'submitter'],
  reviewer: ['reader', 'reviewer'],
  operator: ['reader', 'submitter', 'reviewer', 'operator'],
  client: [],
};

/**
 * The roles that read guest data (PERSONAL_FIELDS) in plain: a submitter is the client waiting for
 * the agent's reply to the guest, and so is a client key for the missions it sees (its own), a
 * reviewer judges and edits it, an operator answers access requests. A reader (dashboards,
 * reporting) sees those fields as `[redacted]`.
 */
const READS_PERSONAL_DATA: ReadonlySet<Role> = new Set<Role>(['submitter', 'reviewer', 'operator', 'client']);

/** Whether a key holding `role` sees guest data in plain in API responses and the live stream. */
export function readsPersonalData(role: Role): boolean {
  return READS_PERSONAL_DATA.has(role);
}

export interface ApiKey {
  name: string;
  secret: string;
  role: Role;
}

export const MIN_SECRET_LENGTH = 16;

/** Names end up in logs, metrics labels and Redis keys, so they stay plain. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Secrets travel in HTTP headers; a comma would split the API_KEYS list. */
const SECRET = /^[\x21-\x2b\x2d-\x7e]+$/;

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Whether a key holding `held` may call a route that needs `required`; a client key only a route
 * `openToClients` (@OpenToClients), whatever role it needs.
 */
export function roleAllows(held: Role, required: Role, openToClients = false): boolean {
  return held === 'client' ? openToClients : GRANTS[held].includes(required);
}

/**
 * Whether the caller may see a mission: a client key only the missions it created (`createdBy`,
 * the actor of the create), where any other mission is as unknown to it as one that does not
 * exist; every other role every mission. A state stored before `createdBy` existed is no client's
 * until `replay rebuild` records its creator: refused rather than guessed.
 */
export function seesMission(caller: { name: string; role: Role }, mission: Pick<Mission, 'createdBy'>): boolean {
  return caller.role !== 'client' || mission.createdBy === caller.name;
}

/**
 * Parses `API_KEYS`: `name:secret:role` entries, comma-separated; blank entries are skipped so the
 * list may end in a comma. Error messages name the entry by position and name but never quote a
 * secret, because they end up on stderr and in logs.
 *
 * One name may be given more than one secret, with one role: that is a rotation, the old and the
 * new secret both in force while the client moves over. Everything that keys on the name (the
 * actor, the idempotency and `source` scope, the rate-limit bucket, /api/me) then stays the same
 * whichever secret is presented, so a create retried under the new secret is the same create.
 */
export function parseApiKeys(spec: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const roles = new Map<string, Role>();
  const secrets = new Set<string>();
  spec.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    if (entry === '') return;
    const where = `API_KEYS entry ${index + 1}`;
    const parts = entry.split(':');
    if (parts.length < 3) throw new Error(`${where}: expected name:secret:role`);
    // Name and role cannot hold a colon, so everything between them is the secret.
    const name = parts[0].trim();
    const role = parts[parts.length - 1].trim();
    const secret = parts.slice(1, -1).join(':');
    if (name === '') throw new Error(`${where}: the name is empty`);
    if (!NAME.test(name)) throw new Error(`${where} ("${name}"): the name may hold only letters, digits and _ . - (at most 64)`);
    const named = `${where} ("${name}")`;
    if (isServiceActor(name))
      throw new Error(`${named}: the name is a service's own actor in the audit trail (SERVICE_ACTORS); name the key after whoever holds it`);
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`${named}: the secret is shorter than ${MIN_SECRET_LENGTH} characters`);
    if (!SECRET.test(secret)) throw new Error(`${named}: the secret may hold only visible ASCII characters other than a comma`);
    if (!isRole(role)) throw new Error(`${named}: unknown role "${role}"; expected one of ${ROLES.join(', ')}`);
    const earlierRole = roles.get(name);
    if (earlierRole !== undefined && earlierRole !== role)
      throw new Error(
        `${named}: the name is used by an earlier entry with role ${earlierRole}; one name takes a second secret (a rotation) only with the same role`,
      );
    if (secrets.has(secret)) throw new Error(`${named}: the secret is used by an earlier entry`);
    roles.set(name, role);
    secrets.add(secret);
    keys.push({ name, secret, role });
  });
  return keys;
}
