import { parseApiKeys, readsPersonalData, ROLES, roleAllows, seesMission } from './api-key';

const SECRET_A = 'a'.repeat(16);
const SECRET_B = 'b-secret-0123456789';

describe('parseApiKeys', () => {
  it('given name:secret:role entries, then each becomes a key, whitespace and blank entries aside', () => {
    expect(parseApiKeys(` ops:${SECRET_A}:operator , ci:${SECRET_B}:submitter,dash:${'c'.repeat(20)}:reader, `)).toEqual([
      { name: 'ops', secret: SECRET_A, role: 'operator' },
      { name: 'ci', secret: SECRET_B, role: 'submitter' },
      { name: 'dash', secret: 'c'.repeat(20), role: 'reader' },
    ]);
  });

  it('given an empty or blank spec, then there are no keys', () => {
    expect(parseApiKeys('')).toEqual([]);
    expect(parseApiKeys('  ,  ')).toEqual([]);
  });

  it('given one name twice with one role, as during a rotation, then both secrets are that key', () => {
    expect(parseApiKeys(`odoo:${SECRET_A}:submitter,odoo:${SECRET_B}:submitter`)).toEqual([
      { name: 'odoo', secret: SECRET_A, role: 'submitter' },
      { name: 'odoo', secret: SECRET_B, role: 'submitter' },
    ]);
  });

  it('given a secret holding a colon, then the part between name and role is the secret', () => {
    expect(parseApiKeys('ops:abc:def:0123456789abcdef:operator')).toEqual([{ name: 'ops', secret: 'abc:def:0123456789abcdef', role: 'operator' }]);
  });

  it.each([
    ['a missing part', `ops:${SECRET_A}`, /entry 1: expected name:secret:role/],
    ['an empty name', `:${SECRET_A}:operator`, /entry 1: the name is empty/],
    ['a name with odd characters', `o ps:${SECRET_A}:operator`, /the name may hold only/],
    ['a short secret', 'ops:short-secret:operator', /entry 1 \("ops"\): the secret is shorter than 16 characters/],
    ['a secret with a space', 'ops:0123456789 abcdef:operator', /visible ASCII/],
    ['an unknown role', `ops:${SECRET_A}:admin`, /unknown role "admin"; expected one of reader, submitter, reviewer, operator, client/],
    [
      'a name used again with another role',
      `ops:${SECRET_A}:operator,ops:${SECRET_B}:reader`,
      /entry 2 \("ops"\): the name is used by an earlier entry with role operator; one name takes a second secret \(a rotation\) only with the same role/,
    ],
    ['a name used again with its secret', `ops:${SECRET_A}:operator,ops:${SECRET_A}:operator`, /entry 2 \("ops"\): the secret is used by an earlier entry/],
    [
      'a name a service writes as its actor',
      `ops:${SECRET_A}:operator,retention:${SECRET_B}:operator`,
      /entry 2 \("retention"\): the name is a service's own actor/,
    ],
    ['a service actor in another case', `Webhook-Dispatcher:${SECRET_A}:reader`, /entry 1 \("Webhook-Dispatcher"\): the name is a service's own actor/],
    ['a duplicate secret', `ops:${SECRET_A}:operator,ci:${SECRET_A}:reader`, /entry 2 \("ci"\): the secret is used by an earlier entry/],
  ])('given %s, then it fails with a clear message', (_case, spec, message) => {
    expect(() => parseApiKeys(spec)).toThrow(message);
  });

  it('given a key named as any actor the services write, then it is refused', () => {
    for (const name of ['intake', 'orchestrator', 'executor', 'evaluator', 'connector-odoo', 'retention', 'seed', 'webhook-dispatcher'])
      expect(() => parseApiKeys(`${name}:${SECRET_A}:submitter`)).toThrow(`API_KEYS entry 1 ("${name}"): the name is a service's own actor`);
  });

  it('given a bad entry, then the message never quotes a secret', () => {
    const secret = 'do-not-print-0123456789';
    for (const spec of [`ops:${secret}:admin`, `ops:${secret}:reader,ops2:${secret}:reader`]) {
      expect(() => parseApiKeys(spec)).toThrow(Error);
      try {
        parseApiKeys(spec);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });
});

describe('roleAllows', () => {
  it('given the role ladder, then each role holds the rights of the ones below it and no more', () => {
    expect(roleAllows('reader', 'reader')).toBe(true);
    expect(roleAllows('reader', 'submitter')).toBe(false);
    expect(roleAllows('submitter', 'reader')).toBe(true);
    expect(roleAllows('submitter', 'operator')).toBe(false);
    expect(roleAllows('operator', 'submitter')).toBe(true);
  });

  it('given a reviewer, then it may read and review but not submit or operate; submitters may not review; operators may', () => {
    expect(roleAllows('reviewer', 'reader')).toBe(true);
    expect(roleAllows('reviewer', 'reviewer')).toBe(true);
    expect(roleAllows('reviewer', 'submitter')).toBe(false);
    expect(roleAllows('reviewer', 'operator')).toBe(false);
    expect(roleAllows('submitter', 'reviewer')).toBe(false);
    expect(roleAllows('reader', 'reviewer')).toBe(false);
    expect(roleAllows('operator', 'reviewer')).toBe(true);
  });

  it('given a client, then it may call only a route open to clients, whatever role the route needs; the open mark changes nothing for the others', () => {
    for (const required of ROLES) {
      expect(roleAllows('client', required)).toBe(false);
      expect(roleAllows('client', required, true)).toBe(true);
    }
    for (const held of ROLES.filter((role) => role !== 'client')) {
      for (const required of ROLES) expect(roleAllows(held, required, true)).toBe(roleAllows(held, required));
    }
    expect(roleAllows('operator', 'client')).toBe(false);
  });
});

describe('seesMission and readsPersonalData', () => {
  it('given a client key, then it sees only the missions it created, and one stored without a creator is none of its own; other roles see every mission', () => {
    const client = { name: 'partner-a', role: 'client' } as const;
    expect(seesMission(client, { createdBy: 'partner-a' })).toBe(true);
    expect(seesMission(client, { createdBy: 'partner-b' })).toBe(false);
    expect(seesMission(client, {})).toBe(false);
    for (const role of ROLES.filter((r) => r !== 'client')) {
      expect(seesMission({ name: 'partner-a', role }, { createdBy: 'partner-b' })).toBe(true);
      expect(seesMission({ name: 'ops', role }, {})).toBe(true);
    }
  });

  it('given each role, then only a reader gets guest data redacted; a client reads its own in plain, as a submitter', () => {
    expect(ROLES.filter((role) => !readsPersonalData(role))).toEqual(['reader']);
  });
});
