import { MISSION_TYPES } from './mission-type';
import { KNOWN_PAYLOAD_KEYS, knownPayloadKeyProblems } from './payload-keys';
import { priorityScore } from './priority-score';
import { REVIEW_BASIS } from './review-basis';

describe('knownPayloadKeyProblems', () => {
  it('given a known key holding a string where a boolean or a number is read, then it names the path, the kind and the value', () => {
    // Each was a 201 whose value every reader then ignored: no safety tier, no VIP points, no floor.
    expect(knownPayloadKeyProblems({ safetyIssue: 'true' }, 'maintenance')).toEqual([
      expect.stringMatching(/^payload\.safetyIssue must be a boolean \(true or false\), not the string "true": only true makes a safety issue/),
    ]);
    expect(knownPayloadKeyProblems({ currentRate: 120, minRate: '200' }, 'pricing')).toEqual([
      expect.stringMatching(/^payload\.minRate must be a number, not the string "200": the floor/),
    ]);
    expect(knownPayloadKeyProblems({ vip: 'yes', guest: { vip: 1 }, revenueAtStake: '5000' }, 'guest_support')).toEqual([
      expect.stringMatching(/^payload\.vip must be a boolean \(true or false\), not the string "yes"/),
      expect.stringMatching(/^payload\.guest\.vip must be a boolean \(true or false\), not the number 1/),
      expect.stringMatching(/^payload\.revenueAtStake must be a number, not the string "5000"/),
    ]);
    expect(knownPayloadKeyProblems({ event: 7, maxRate: [200] }, 'pricing')).toEqual([
      expect.stringMatching(/^payload\.maxRate must be a number, not a list/),
      expect.stringMatching(/^payload\.event must be a string or an object, not the number 7/),
    ]);
  });

  it('given the right kinds, null for a key, or keys nobody reads, then there is no problem', () => {
    const payload = { safetyIssue: true, vip: false, guest: { vip: true, name: 'Anna' }, revenueAtStake: 5000, roomNumber: 204, location: 'lobby' };
    for (const type of MISSION_TYPES) expect(knownPayloadKeyProblems(payload, type)).toEqual([]);
    const pricing = { currentRate: 120, minRate: 100, maxRate: null, currency: 'EUR', event: { name: 'fair', upliftPercent: 20 }, occupancy: 0.9 };
    expect(knownPayloadKeyProblems(pricing, 'pricing')).toEqual([]);
    expect(knownPayloadKeyProblems({ safetyIssue: null, room: true, notes: { vip: 'x' } }, 'maintenance')).toEqual([]);
  });

  it('given a key only other types read, then it is not checked: the payload stays free-form there', () => {
    expect(knownPayloadKeyProblems({ minRate: '200', language: 3 }, 'maintenance')).toEqual([]);
    expect(knownPayloadKeyProblems({ equipment: { id: 4 } }, 'guest_support')).toEqual([]);
    expect(knownPayloadKeyProblems({ equipment: { id: 4 } }, 'maintenance')).toHaveLength(1);
  });

  it("given a client's own odoo key, then it is free: only the connector's missions have theirs read, by their source", () => {
    for (const type of MISSION_TYPES) expect(knownPayloadKeyProblems({ odoo: 'SO-1187' }, type)).toEqual([]);
  });

  it('given a type that is no mission type, then only the keys every type reads are checked', () => {
    expect(knownPayloadKeyProblems({ safetyIssue: 'true', minRate: '200' }, 'spa')).toEqual([expect.stringMatching(/^payload\.safetyIssue /)]);
  });

  it('given a parent that is no object, then its children are not checked: the parent is named alone', () => {
    expect(knownPayloadKeyProblems({ event: 'the fair' }, 'pricing')).toEqual([]);
    expect(knownPayloadKeyProblems({ asset: 'elevator-1' }, 'maintenance')).toEqual([]);
    expect(knownPayloadKeyProblems({ asset: true }, 'maintenance')).toEqual([
      expect.stringMatching(/^payload\.asset must be a string or an object, not the boolean true/),
    ]);
  });

  it('given a personal field of the wrong kind, then its value is not quoted: the message is kept in plain', () => {
    expect(knownPayloadKeyProblems({ message: 4915112345678, guest: { name: ['Anna', 'Schmidt'] } }, 'guest_support')).toEqual([
      expect.stringMatching(/^payload\.guest\.name must be a string, not a list:/),
      expect.stringMatching(/^payload\.message must be a string, not a number:/),
    ]);
  });

  it('given a long string, then the message quotes its start only', () => {
    const [problem] = knownPayloadKeyProblems({ safetyIssue: 'yes, '.repeat(50) }, 'maintenance');
    // 39 characters and the ellipsis.
    expect(problem).toContain(`not the string "${'yes, '.repeat(7)}yes,…": `);
    expect(problem).not.toContain('yes, '.repeat(9));
  });

  it('given every key a review card shows, then the table declares it for that type', () => {
    // The review basis names the keys a result is judged by; a key read with a meaning must be checked at create.
    for (const type of MISSION_TYPES)
      for (const { key } of REVIEW_BASIS[type]) {
        const declared = KNOWN_PAYLOAD_KEYS.find((known) => known.path === key);
        expect({ type, key, readBy: declared?.readBy.includes(type) }).toEqual({ type, key, readBy: true });
      }
  });

  it('declares each path once, each read by at least one type', () => {
    const paths = KNOWN_PAYLOAD_KEYS.map((key) => key.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const key of KNOWN_PAYLOAD_KEYS) expect(key.readBy.length).toBeGreaterThan(0);
  });

  it('given the scoring keys with their kinds, then the scores are those the README gives', () => {
    // What the new user saw: 36 for the string "true", 51 for true. The string is now refused; true still scores 51.
    expect(priorityScore({ type: 'maintenance', priority: 'normal', payload: { safetyIssue: true } })).toBe(51);
    expect(priorityScore({ type: 'maintenance', priority: 'normal', payload: { guest: { vip: true }, revenueAtStake: 5000 } })).toBe(49);
  });
});
