import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '@app/config';
import { validateSubmitMission } from '@app/messages';
import { personalValues, resolveSubjects } from '@app/mission';
import { htmlToText, loadOdooMapping, missionOf, recordFieldProblems } from './odoo-mapping';

describe('the Odoo mapping file and what records become', () => {
  const mapping = loadOdooMapping();
  const rule = (name: string) => mapping.rules.find((candidate) => candidate.name === name)!;

  it('given a helpdesk ticket, then it becomes a guest_support mission with the priority, guest and source', () => {
    const mission = missionOf(mapping, rule('guest-tickets'), {
      id: 42,
      name: 'Late check-out, room 204',
      description: '<p>Guest asks for <b>14:00</b>.</p><p>Thanks &amp; regards</p>',
      priority: '3',
      partner_id: [9, 'Anna Schmidt'],
      partner_email: 'anna@example.com',
      write_date: '2026-05-01 08:00:01',
    });
    expect(mission).toEqual({
      type: 'guest_support',
      title: 'helpdesk.ticket #42',
      description: 'Late check-out, room 204\n\nGuest asks for 14:00.\nThanks & regards',
      priority: 'critical',
      payload: {
        odoo: { model: 'helpdesk.ticket', recordId: 42, rule: 'guest-tickets' },
        guest: { id: 'odoo-partner-9', name: 'Anna Schmidt' },
        contactEmail: 'anna@example.com',
      },
      source: { system: 'odoo', model: 'helpdesk.ticket', recordId: 42 },
    });
    expect(validateSubmitMission({ mission }).ok).toBe(true);
  });

  it('given a ticket whose subject names the guest, then the subject goes into the description, which is personal, never into the plain title', () => {
    const mission = missionOf(mapping, rule('pricing-requests'), {
      id: 43,
      name: 'Anna Schmidt asks for a group rate',
      description: false,
      priority: '1',
      partner_id: [9, 'Anna Schmidt'],
    });
    // Titles are stored in plain; the ticket's name used to become the title, so the guest's name
    // was readable in the mission log and read model, and no erasure reached it.
    expect(mission.title).toBe('helpdesk.ticket #43');
    expect(mission.description).toBe('Anna Schmidt asks for a group rate');
    const subjects = resolveSubjects(mission, 'm-43');
    expect(personalValues(mission.type, 'input', { ...mission, subjects }).map(({ path }) => path)).toContain('description');
  });

  it('given a rule with personalTitle false, then the record keeps its title; one with a partner and no say treats it as personal', () => {
    const record = { id: 5, name: 'Towels', description: 'More towels', priority: '1', partner_id: [9, 'Anna Schmidt'] };
    expect(missionOf(mapping, { ...rule('guest-tickets'), personalTitle: false }, record)).toMatchObject({ title: 'Towels', description: 'More towels' });
    expect(missionOf(mapping, rule('guest-tickets'), record)).toMatchObject({ title: 'helpdesk.ticket #5', description: 'Towels\n\nMore towels' });
    // Nothing visible is no guest data: it stays the title, and the record is refused for it as before.
    expect(missionOf(mapping, rule('guest-tickets'), { ...record, name: '\u200b' })).toMatchObject({ title: '\u200b', description: 'More towels' });
  });

  it('given personalTitle that is no boolean, then the mapping file is refused', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'odoo-mapping-')), 'mapping.json');
    try {
      writeFileSync(file, JSON.stringify({ ...mapping, rules: [{ ...rule('guest-tickets'), personalTitle: 'yes' }] }));
      expect(() => loadOdooMapping(file)).toThrow('rule guest-tickets: personalTitle must be true or false');
    } finally {
      rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('given payload keys the connector sets itself, then the mapping file is refused naming each', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'odoo-mapping-')), 'mapping.json');
    try {
      // `odoo` overwrote the record's source, so the write-back found no rule and stageOnSuccess stopped; `guest` took a raw e-mail.
      writeFileSync(file, JSON.stringify({ ...mapping, rules: [{ ...rule('guest-tickets'), payload: { odoo: 'name', guest: 'partner_email' } }] }));
      expect(() => loadOdooMapping(file)).toThrow(ConfigError);
      expect(() => loadOdooMapping(file)).toThrow(/rule guest-tickets: payload key "odoo" is reserved: .*write-back/);
      expect(() => loadOdooMapping(file)).toThrow(/rule guest-tickets: payload key "guest" is reserved: .*"partner"/);
    } finally {
      rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('given two tickets of one partner, then both name the same guest, so one erasure covers them; a partner without an id names none', () => {
    const ticket = (id: number, partner: unknown) =>
      missionOf(mapping, rule('guest-tickets'), { id, name: 'Towels', description: 'More towels', priority: '1', partner_id: partner });
    expect(resolveSubjects(ticket(1, [9, 'Anna Schmidt']), 'm-1')).toEqual(['guest:odoo-partner-9']);
    expect(resolveSubjects(ticket(2, [9, 'Anna Schmidt']), 'm-2')).toEqual(['guest:odoo-partner-9']);
    expect(ticket(3, 'Anna Schmidt').payload.guest).toEqual({ name: 'Anna Schmidt' });
    expect(resolveSubjects(ticket(3, 'Anna Schmidt'), 'm-3')).toEqual(['mission:m-3']);
  });

  it("given a maintenance request's owner, then it is who reported it, not a guest: no data subject of a partner's id", () => {
    const mission = missionOf(mapping, rule('maintenance-requests'), {
      id: 9,
      name: 'Lamp',
      description: 'Broken',
      priority: '1',
      owner_user_id: [7, 'Mia Technician'],
    });
    // The owner is a res.users id: it used to become guest:odoo-partner-7, the subject of partner 7,
    // so erasing or reading partner 7 would have reached user 7's maintenance requests.
    expect(mission.payload).toMatchObject({ reportedBy: 'Mia Technician' });
    expect(mission.payload).not.toHaveProperty('guest');
    expect(resolveSubjects(mission, 'm-9')).toEqual([]);
  });

  it('given a record with no visible title, then its mission has none either, and is refused for it, whatever the description', () => {
    const refusal = (record: Record<string, unknown>, name = 'guest-tickets') => {
      const checked = validateSubmitMission({ mission: missionOf(mapping, rule(name), { id: 4, priority: '1', ...record }) });
      return checked.ok ? null : checked.problems.join('; ');
    };
    // It was taken in as `helpdesk.ticket #4`, with that as its description too: a mission with nothing to act on.
    expect(refusal({ name: '   ', description: '', partner_id: [9, 'Anna Schmidt'] })).toMatch(/title/);
    expect(refusal({ name: false, description: false }, 'maintenance-requests')).toMatch(/title/);
    expect(refusal({ name: ' \u200b ', description: '<p>More towels</p>' })).toMatch(/title/);
    // Drawn as nothing, these were taken in as titles: Hangul fillers, blank Braille, a lone combining accent.
    expect(refusal({ name: '\u3164\u115f\u1160 \u2800\u0301', description: '<p>More towels</p>' })).toMatch(/title/);
    expect(refusal({ name: 'Towels', description: '' })).toBeNull();
  });

  it('given odd fields, then the mission is still one the intake accepts', () => {
    const mission = missionOf(mapping, rule('maintenance-requests'), { id: 7, name: 'Lamp', description: false, priority: false, equipment_id: false });
    expect(mission).toMatchObject({ title: 'Lamp', description: 'Lamp', priority: 'normal' });
    const odd = missionOf(mapping, rule('maintenance-requests'), { id: 8, name: 'AC\u0007 broken\u202e', description: 'Drips\u0007', priority: '0' });
    expect(odd).toMatchObject({ title: 'AC  broken', description: 'Drips ' });
    expect(validateSubmitMission({ mission: odd }).ok).toBe(true);
  });

  it("given a priority that names the object's own machinery (__proto__, constructor), then it is normal, as any priority the mapping does not name", () => {
    // They read the lookup object's prototype and constructor: the intake refused the mission for its priority.
    for (const priority of ['__proto__', 'constructor', 'toString', '7']) {
      const mission = missionOf(mapping, rule('guest-tickets'), { id: 3, name: 'Towels', description: 'More towels', priority });
      expect(mission.priority).toBe('normal');
      expect(validateSubmitMission({ mission }).ok).toBe(true);
    }
  });

  it('given a field holding a list that is no many2one, or an object, then the record has a problem naming the field; Odoo values have none', () => {
    // They were read anyway: ["a","b"] as "b", an object as "[object Object]".
    expect(recordFieldProblems(rule('guest-tickets'), { id: 3, name: 'Towels', description: ['a', 'b'], partner_email: { x: 1 }, priority: '1' })).toEqual([
      'field description holds a list that is no many2one ([id, name]): the rule cannot read it as a value',
      'field partner_email holds an object that is no many2one ([id, name]): the rule cannot read it as a value',
    ]);
    expect(
      recordFieldProblems(rule('guest-tickets'), {
        id: 3,
        name: 'Towels',
        description: false,
        partner_id: [9, 'Anna Schmidt'],
        partner_email: 'anna@example.com',
      }),
    ).toEqual([]);
    expect(
      recordFieldProblems(rule('maintenance-requests'), {
        id: 4,
        name: 'Lamp',
        description: '<p>Broken</p>',
        equipment_id: [3, 'Lamp 2'],
        owner_user_id: false,
      }),
    ).toEqual([]);
    // A many2many's or one2many's ids, none or more, stay what they were: no value, left out of the mission.
    expect(recordFieldProblems(rule('maintenance-requests'), { id: 5, name: 'Lamp', description: 'Broken', equipment_id: [], owner_user_id: [4, 7] })).toEqual(
      [],
    );
  });

  it('given a field mapped to a payload key the system reads, then its Odoo kind is carried as it is: a char field where a number is read is refused, naming the key', () => {
    // Not converted: "200" might be read, but "1.234,50" or "200 EUR" would be a guess. The record is
    // set aside with this reason (its chatter says why), so the mapping is fixed to name a float or monetary field.
    const pricing = { ...rule('pricing-requests'), payload: { minRate: 'x_floor', currentRate: 'x_rate', safetyIssue: 'x_safety' } };
    const record = (fields: Record<string, unknown>) => ({ id: 44, name: 'Fair weekend', description: 'Rates?', priority: '1', partner_id: false, ...fields });
    const typed = missionOf(mapping, pricing, record({ x_floor: 200, x_rate: 120.5, x_safety: true }));
    expect(typed.payload).toMatchObject({ minRate: 200, currentRate: 120.5, safetyIssue: true });
    expect(validateSubmitMission({ mission: typed }).ok).toBe(true);
    // An unticked boolean is Odoo's false, which means empty: the key is left out, as false would read.
    expect(missionOf(mapping, pricing, record({ x_floor: 200, x_safety: false })).payload).not.toHaveProperty('safetyIssue');
    const text = missionOf(mapping, pricing, record({ x_floor: '200', x_rate: 120 }));
    expect(validateSubmitMission({ mission: text })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^mission\.payload: payload\.minRate must be a number, not the string "200": /)],
    });
  });

  it('given a description longer than the intake takes, then it is carried whole, for the intake to refuse, never cut', () => {
    // 11,000 × 中 (about 33 KB): it became a mission of the first 10,000 characters, the rest of the guest's words dropped unsaid.
    const words = '中'.repeat(11_000);
    const mission = missionOf(mapping, rule('guest-tickets'), { id: 11, name: 'Complaint', description: `<p>${words}</p>`, priority: '1' });
    expect(mission.description).toBe(`Complaint\n\n${words}`);
    const checked = validateSubmitMission({ mission });
    expect(checked.ok ? null : checked.problems.join('; ')).toMatch(/description must be shorter than or equal to 10000 characters/);
    const ascii = missionOf(mapping, rule('maintenance-requests'), { id: 12, name: 'Report', description: 'x'.repeat(10_001), priority: '1' });
    expect(ascii.description).toHaveLength(10_001);
    expect(validateSubmitMission({ mission: ascii }).ok).toBe(false);
  });

  it("given a long guest name or payload field, then each is carried whole, counted in the mission text's bytes", () => {
    const name = 'Anna '.repeat(60).trim();
    const email = `${'a'.repeat(600)}@example.com`;
    // The name was cut to 200 characters and each payload field to 500.
    const mission = missionOf(mapping, rule('guest-tickets'), {
      id: 16,
      name: 'Towels',
      description: 'More',
      priority: '1',
      partner_id: [9, name],
      partner_email: email,
    });
    expect(mission.payload).toMatchObject({ guest: { name }, contactEmail: email });
  });

  it('given a subject longer than the title field, then it opens the description whole, whether or not the title is personal', () => {
    const subject = `Room 204: ${'the air conditioning rattles and blows warm air '.repeat(6)}end`;
    // It was cut to 200 characters, and for a personal title moved cut into a description with room for it all.
    const personal = missionOf(mapping, rule('guest-tickets'), { id: 13, name: subject, description: '<p>Since Monday.</p>', priority: '1' });
    expect(personal).toMatchObject({ title: 'helpdesk.ticket #13', description: `${subject}\n\nSince Monday.` });
    expect(validateSubmitMission({ mission: personal }).ok).toBe(true);
    // A title kept in plain (a maintenance request's) that does not fit is moved as well, rather than refused or cut.
    const plainTitle = missionOf(mapping, rule('maintenance-requests'), { id: 14, name: subject, description: 'Since Monday.', priority: '1' });
    expect(plainTitle).toMatchObject({ title: 'maintenance.request #14', description: `${subject}\n\nSince Monday.` });
    expect(validateSubmitMission({ mission: plainTitle }).ok).toBe(true);
    expect(missionOf(mapping, rule('maintenance-requests'), { id: 15, name: 'x'.repeat(200), description: 'y', priority: '1' }).title).toBe('x'.repeat(200));
  });

  it('given a mapping file that is missing, no JSON, or not shaped as a mapping, then it is a ConfigError naming ODOO_MAPPING_FILE, the file and the problem', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'odoo-mapping-'));
    const refusal = (file: string) => {
      try {
        loadOdooMapping(file);
      } catch (error) {
        return error;
      }
      throw new Error(`${file} was taken`);
    };
    const written = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    try {
      const missing = path.join(dir, 'missing.json');
      expect(refusal(missing)).toBeInstanceOf(ConfigError);
      expect(refusal(missing)).toMatchObject({ problems: [`ODOO_MAPPING_FILE=${JSON.stringify(missing)}: cannot be read: there is no such file`] });
      expect(refusal(written('broken.json', '{"rules": ['))).toMatchObject({ problems: [expect.stringContaining('broken.json": is no JSON: ')] });
      // A rule without its fields used to pass or throw a plain Error (a Nest stack and exit 1), or fail at the first poll.
      const bare = written('bare.json', '{"rules":[{"name":"x"}]}');
      expect(refusal(bare)).toBeInstanceOf(ConfigError);
      expect((refusal(bare) as ConfigError).problems).toEqual([
        `ODOO_MAPPING_FILE=${JSON.stringify(bare)}: priorities: an object from Odoo's priority ('0'–'3') to a priority level is needed`,
        `ODOO_MAPPING_FILE=${JSON.stringify(bare)}: rule x: undefined is no mission type`,
        `ODOO_MAPPING_FILE=${JSON.stringify(bare)}: rule x: model, title and domain are needed`,
        `ODOO_MAPPING_FILE=${JSON.stringify(bare)}: rule x: description (the field that gives it) is needed`,
        `ODOO_MAPPING_FILE=${JSON.stringify(bare)}: rule x: payload must be an object from payload key to Odoo field ({} for none)`,
      ]);
      for (const text of ['null', '[]', '{"priorities": {}, "rules": {}}', '{"priorities": {}, "rules": [null]}']) {
        expect(refusal(written('odd.json', text))).toBeInstanceOf(ConfigError);
      }
      const stage = { ...rule('maintenance-requests'), stageOnSuccess: { field: 'stage_id' } };
      expect(refusal(written('stage.json', JSON.stringify({ ...mapping, rules: [stage] })))).toMatchObject({
        problems: [expect.stringContaining('rule maintenance-requests: stageOnSuccess must be null or')],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads html as text', () => {
    expect(htmlToText('<div>a<br/>b</div><ul><li>c</li></ul>&lt;x&gt;')).toBe('a\nb\nc\n<x>');
  });

  it("given the entities of Odoo's escaping and of mails, then each is decoded: named, decimal and hex", () => {
    // Odoo writes `"` as &#34;; mails bring typographic and accented letters, currencies and emoji.
    expect(htmlToText('<p>&#34;Room&#34; 12&nbsp;&amp;&nbsp;14</p>')).toBe('"Room" 12 & 14');
    expect(htmlToText('<p>I&rsquo;d like a caf&eacute; &ndash; &#8364;5 &#x1F600; &hellip;</p>')).toBe(
      'I\u2019d like a caf\u00e9 \u2013 \u20ac5 \u{1f600} \u2026',
    );
    // Decoded once: an escaped entity stays one, and a decoded tag stays text.
    expect(htmlToText('&amp;lt;b&amp;gt; &lt;b&gt;bold&lt;/b&gt;')).toBe('&lt;b&gt; <b>bold</b>');
  });

  it('given numeric entities that name no character, then they become U+FFFD instead of failing', () => {
    expect(htmlToText('a&#xD800;b&#x110000;c&#0;d&#99999999999;e')).toBe('a\ufffdb\ufffdc\ufffdd\ufffde');
    const mission = missionOf(mapping, rule('maintenance-requests'), { id: 9, name: 'Leak', description: '<p>&#x110000;Leak in 12</p>', priority: '1' });
    expect(validateSubmitMission({ mission }).ok).toBe(true);
  });
});
