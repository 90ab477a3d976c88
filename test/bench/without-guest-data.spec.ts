import * as path from 'node:path';
import { Mission, resolveSubjects } from '@app/mission';
import { withoutGuestDataNodeOptions } from '../../scripts/bench/system';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const MESSAGE = 'Könnten wir am Sonntag erst um 14 Uhr auschecken?';
const guestRequest = {
  type: 'guest_support' as const,
  title: 'Late check-out',
  description: `Guest writes: ${MESSAGE}`,
  priority: 'normal' as const,
  payload: { language: 'de', guest: { id: 'g-815', name: 'Anna Schmidt' }, message: MESSAGE },
};

/**
 * `npm run bench -- --guest-data off` preloads scripts/bench/without-guest-data into the services.
 * Here the four services run in this process, with that module loaded as the preload loads it.
 */
describe('bench --guest-data off (four services in this process, real Redis)', () => {
  let system: InProcessSystem | undefined;
  afterAll(async () => system?.close());

  it('given the preload, when a guest request runs through the pipeline, then nothing is sealed: no subject, its data in plain', async () => {
    expect(resolveSubjects(guestRequest, 'm-1')).toEqual(['guest:g-815']);

    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded as NODE_OPTIONS=--require loads it
    require('../../scripts/bench/without-guest-data');
    system = await startInProcessSystem('bench-without-guest-data');
    const created = await system.api.post('/api/missions').send(guestRequest).expect(201);
    expect((await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered'])).status).toBe('succeeded');

    const stored = (await system.store.load(created.body.id)) as Mission;
    expect(stored.subjects ?? []).toEqual([]);
    expect(stored).toMatchObject({ description: guestRequest.description, payload: { guest: { name: 'Anna Schmidt' }, message: MESSAGE } });
    expect(typeof stored.result?.output.reply).toBe('string');
    expect(stored.result?.output.reply).not.toMatch(/^enc:/);
  });

  it("given the bench's own NODE_OPTIONS, then the services get them and the preload of the compiled file after them", () => {
    const preload = `--require "${path.join(__dirname, '..', '..', 'scripts', 'bench', 'without-guest-data.js')}"`;
    expect(withoutGuestDataNodeOptions(undefined)).toBe(preload);
    expect(withoutGuestDataNodeOptions('--max-old-space-size=512')).toBe(`--max-old-space-size=512 ${preload}`);
  });
});
