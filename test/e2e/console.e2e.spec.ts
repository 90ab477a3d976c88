import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BrowserContext, chromium, Locator, Page, Request } from 'playwright-core';
import request from 'supertest';
import { MISSION_HASH_FIELDS } from '@app/event-store';
import { BULK_REQUEUE_MAX, QueueStats } from '@app/mission';
import { aCreateInput, alterStoredDescription, waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { GUEST_MESSAGE, LATE_CHECK_OUT } from '../support/guest-request';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';
import { seedDeadLetters } from '../support/seed-dead-letters';

const ROOT = resolve(__dirname, '..', '..');
/** Debian's chromium package (`.ci/run` installs it when missing); CHROMIUM_PATH names another. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Kept after the run: one screenshot per page, at laptop and tablet widths. */
const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LAPTOP = { width: 1280, height: 800 };
const TABLET = { width: 768, height: 1024 };

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

/** The focused element's tag name and text, or for a select, its label's first words (`SELECT Status`). */
const FOCUSED = `(() => {
  const at = document.activeElement;
  const text = at?.tagName === 'SELECT' ? at.closest('label')?.firstChild?.textContent?.trim() : at?.textContent;
  return at?.tagName + ' ' + text;
})()`;

/** What the Dead letters page loads (GET /api/dlq?limit=200). */
const DEAD_LETTERS_LOADED = 200;

describe('the console at /console (Chromium, against the in-process system)', () => {
  let system: InProcessSystem;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

  /** Serious and critical accessibility violations on the page (or another tab) as it is now (axe-core, WCAG 2 A and AA). */
  const seriousViolations = async (on: Page = page): Promise<string[]> => {
    // Evaluated through the DevTools protocol, so the page's Content-Security-Policy stays as served.
    await on.evaluate(axeSource);
    const result = await on.evaluate<AxeResult>("axe.run({ runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] })");
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  };
  const screenshot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  /**
   * A tab of its own on a fake clock (the test moves it on at will), signed in with `key` (the
   * operator's) to the intake at `origin` (the system's); `prepare` runs before the console loads.
   * Closed after `work`.
   */
  const inTabOnFakeClock = async (
    page: string,
    prepare: (tab: Page) => Promise<void>,
    work: (tab: Page) => Promise<void>,
    { origin = base, key = TEST_KEYS.operator }: { origin?: string; key?: string } = {},
  ) => {
    const tab = await context.newPage();
    try {
      await tab.clock.install();
      await tab.goto(`${origin}/console/`);
      await tab.evaluate(`sessionStorage.setItem('brain.apiKey', '${key}')`);
      await prepare(tab);
      await tab.goto(`${origin}/console/#/${page}`);
      await tab.reload();
      await work(tab);
    } finally {
      await tab.close();
    }
  };
  /** Waits until `reached` holds (given FOCUSED's description of the focus); a timeout says where the focus was instead. */
  const focusWhere = async (tab: Page, what: string, reached: (focused: string) => boolean | Promise<boolean>) => {
    let focused = '';
    await waitFor(async () => reached((focused = await tab.evaluate<string>(FOCUSED))), { timeoutMs: 5_000, what }).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; the focus was on ${focused}`);
    });
  };
  /** The focus on `element` (`BUTTON Older`: its tag name and text; a select's, its label's), where the console moves it after the page has painted. */
  const focusOn = (tab: Page, element: string) => focusWhere(tab, `the focus on ${element}`, (focused) => focused === element);
  /** The focus on `card` (a review card's article) or in it. */
  const focusInside = (card: Locator) =>
    focusWhere(card.page(), 'the focus in the card', () => card.evaluate((element) => element.contains(element.ownerDocument.activeElement)));
  /** The focus on the page's heading, where the console moves it after the page has painted. */
  const focusOnHeading = (tab: Page, name: string) => focusOn(tab, `H1 ${name}`);
  /** The link of the first mission in the Missions page's table. */
  const firstListedMission = () =>
    page
      .getByRole('table', { name: /missions on this page/ })
      .getByRole('link')
      .first();
  /** Opens the first mission of the Missions page's table; resolves with its title once its page shows. */
  const openFirstListedMission = async (): Promise<string> => {
    const first = firstListedMission();
    const title = await first.innerText();
    await first.click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    return title;
  };
  /** The page loaded fresh at `route` (`missions?type=pricing`), signed in with `key`, whatever the tests before left. */
  const signInAt = async (route: string, key = TEST_KEYS.operator) => {
    await page.goto(`${base}/console/`);
    await page.evaluate(`sessionStorage.setItem('brain.apiKey', '${key}')`);
    await page.goto(`${base}/console/#/${route}`);
    await page.reload();
  };
  /** A low-priority guest_support mission for `guest`, asking `message`; its id. */
  const guestMission = async (title: string, guest: { id: string; name: string }, message: string): Promise<string> =>
    (
      await system.api
        .post('/api/missions')
        .send({ type: 'guest_support', title, description: 'The guest asks for something.', priority: 'low', payload: { language: 'en', guest, message } })
        .expect(201)
    ).body.id as string;
  /** The figure of the Queue page's tile named `name` (`Oldest ready`), as its term and definition pair it. */
  const tile = (name: string) =>
    page
      .locator('.tile')
      .filter({ has: page.getByRole('term').getByText(name, { exact: true }) })
      .getByRole('definition');
  /** Opens the page `link` by the navigation, signed in as the operator first when no test before signed in (one run alone with `-t`). */
  const open = async (link: string, heading: string) => {
    const navigation = page.getByRole('navigation', { name: 'Pages' });
    if (!(await navigation.isVisible())) await signInAt('');
    await navigation.getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };
  /**
   * A guest_support mission's result under review (the hotel's review policy) in a system of its own,
   * its card on the Review page signed in as the reviewer; `then` runs with it, and the system stops after.
   */
  const withCardUnderReview = async (
    prefix: string,
    title: string,
    description: string,
    then: (under: { reviewing: InProcessSystem; id: string; card: Locator }) => Promise<void>,
    settings: Record<string, string> = {},
  ) => {
    const reviewing = await startInProcessSystem(prefix, { REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml', ...settings });
    try {
      await reviewing.intake.listen(0, '127.0.0.1');
      const origin = `http://127.0.0.1:${(reviewing.intake.getHttpServer().address() as AddressInfo).port}`;
      const created = await reviewing.api
        .post('/api/missions')
        .send({ type: 'guest_support', title, description, priority: 'normal', payload: {} })
        .expect(201);
      const id = created.body.id as string;
      await reviewing.waitForStatus(id, ['awaiting_review']);
      await page.goto(`${origin}/console/`);
      await page.evaluate(`sessionStorage.setItem('brain.apiKey', '${TEST_KEYS.reviewer}')`);
      await page.goto(`${origin}/console/#/review`);
      await page.reload();
      const card = page.getByRole('article', { name: title });
      await card.waitFor();
      await then({ reviewing, id, card });
    } finally {
      await reviewing.close();
    }
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (see .ci/run), or set CHROMIUM_PATH`);
    // The intake serves dist/console, which `npm run build` bundles.
    expect(ensureBuilt(ROOT)).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    // Every attempt fails and one is allowed, so missions reach the dead-letter queue to requeue.
    system = await startInProcessSystem('e2e-console', { MOCK_LLM_FAILURE_RATE: '1', MAX_ATTEMPTS: '1' });
    await system.intake.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(system.intake.getHttpServer().address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), 'brain-console-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: LAPTOP });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (dialog) => void dialog.accept());
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await system?.close();
  });

  it('given the console page, then it names its icon, inline and allowed by its CSP, so the browser fetches no /favicon.ico (a 404)', async () => {
    const response = await fetch(`${base}/console/`);
    const html = await response.text();

    expect(html).toContain('<link rel="icon" href="data:," />');
    // Helmet's img-src: an icon it refused would be a console error of its own.
    expect(response.headers.get('content-security-policy')).toMatch(/img-src 'self' data:/);
  });

  it('given a wrong key, then sign-in refuses it; given an operator key, then every page is in the navigation and the key is only in session storage', async () => {
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill('not-a-key-000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    expect(await seriousViolations()).toEqual([]);
    await screenshot('sign-in');

    // A client key is valid, but its /api/me is a 403: the console says what the key is for.
    await page.getByLabel('API key').fill(TEST_KEYS.client);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'the console needs a staff key' }).waitFor();
    expect(await page.evaluate("sessionStorage.getItem('brain.apiKey')")).toBeNull();

    await page.getByLabel('API key').fill(TEST_KEYS.operator);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const nav = page.getByRole('navigation', { name: 'Pages' });
    for (const name of ['Queue', 'Missions', 'Review', 'Dead letters', 'Agents']) await nav.getByRole('link', { name, exact: true }).waitFor();
    expect(await page.evaluate("sessionStorage.getItem('brain.apiKey')")).toBe(TEST_KEYS.operator);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(page.url()).not.toContain(TEST_KEYS.operator);
  });

  it('given the Queue page, then it shows ready by level, in flight and dead letters, live, and the review backlog; an oldest age with none waiting is "—", not "0 ms"', async () => {
    await open('Queue', 'Queue');
    await page.getByText('Live', { exact: true }).waitFor();
    await page.getByText('Dead-lettered').waitFor();
    await page.getByRole('img', { name: /Last 30 minutes: \d+ enqueued/ }).waitFor();
    // No mission yet, none under review (no review policy here): the ages are of nothing.
    expect(((await system.api.get('/api/missions/queue/stats').expect(200)).body as QueueStats).ready).toBe(0);
    expect(await tile('Oldest ready').innerText()).toBe('—');
    await page.getByRole('heading', { level: 2, name: 'Review backlog' }).waitFor();
    expect(await tile('Awaiting review').innerText()).toBe('0');
    expect(await tile('Overdue').innerText()).toBe('0');
    expect(await tile('Oldest waiting').innerText()).toBe('—');
    expect(await seriousViolations()).toEqual([]);
    await screenshot('queue');
  });

  it('given a mission created through the API, then it appears on the Missions page within 2 s without a reload, and its timeline opens', async () => {
    await open('Missions', 'Missions');
    await page.getByText('Live', { exact: true }).waitFor();
    const title = `Minibar restock ${Date.now()}`;
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const created = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title, description: 'Check the minibar prices.', priority: 'high', payload: {} })
      .expect(201);
    await page.getByRole('link', { name: title }).waitFor({ timeout: 2_000 });
    expect(navigations).toEqual([]);
    expect(await seriousViolations()).toEqual([]);
    await screenshot('missions');

    const search = page.getByLabel('Search by title');
    // A refused filter says which field and why: it said "request validation failed", and nothing more.
    await search.fill('x'.repeat(201));
    await search.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'request validation failed: title: title must be shorter than or equal to 200 characters' }).waitFor();
    await search.fill('no mission has this title');
    await search.press('Enter');
    // Each search is waited for before the next is typed: the input shows the committed filter, and
    // the page's render of one search would put its text back over the next one being typed.
    await page.getByRole('alert').waitFor({ state: 'detached' });
    await page.getByRole('link', { name: title }).waitFor({ state: 'detached' });
    await search.fill(title.slice(0, 12).toUpperCase());
    await search.press('Enter');
    await page.getByRole('link', { name: title }).waitFor();

    await page.getByRole('link', { name: title }).click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const timeline = page.getByRole('table', { name: /Every event of the mission/ });
    await timeline.getByRole('cell', { name: 'MissionCreated' }).waitFor();
    await timeline.getByRole('cell', { name: 'operator' }).first().waitFor();
    await page.getByText(/Hash chain verified/).waitFor();
    await page.getByLabel('Version').selectOption('1');
    // The state as created: asked for by the event's time, which the create shares with the queueing, it was version 2, queued.
    await page
      .getByRole('definition')
      .filter({ hasText: /^created$/ })
      .first()
      .waitFor();
    await system.waitForStatus(created.body.id, ['dead_lettered']);
    await timeline.getByRole('cell', { name: 'MissionDeadLettered' }).waitFor();
    expect(await seriousViolations()).toEqual([]);
    await screenshot('mission');
  });

  it('given a mission created after the page loaded but before its live stream opened, then it still appears without a reload', async () => {
    await open('Queue', 'Queue');
    // The stream's token is held back until the mission exists: the page has loaded, the stream has not begun.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/stream/tokens', async (route) => {
      await held;
      await route.continue();
    });
    try {
      await open('Missions', 'Missions');
      const title = `Late towels ${Date.now()}`;
      await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Towels.', priority: 'low', payload: {} }).expect(201);
      release();
      // It never came: the list was read before it, and the stream began after it.
      await page.getByRole('link', { name: title }).waitFor({ timeout: 5_000 });
    } finally {
      await page.unroute('**/api/stream/tokens');
    }
  });

  it("given one mission's page open, when another's is opened by its link, then the first one's data is gone at once, not shown under the second's address", async () => {
    const create = async (title: string) =>
      (await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Rates.', priority: 'low', payload: {} }).expect(201)).body
        .id as string;
    const [first, second] = [await create(`Spa rates ${Date.now()}`), await create(`Bar rates ${Date.now()}`)];
    await page.goto(`${base}/console/#/missions/${first}`);
    const firstHeading = page.getByRole('heading', { level: 1, name: /^Spa rates/ });
    await firstHeading.waitFor();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**/api/missions/${second}`, async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.goto(`${base}/console/#/missions/${second}`);
      // The first mission's title and fields stayed up until the second's came (for good, had its read failed).
      await firstHeading.waitFor({ state: 'detached', timeout: 2_000 });
      release();
      await page.getByRole('heading', { level: 1, name: /^Bar rates/ }).waitFor();
    } finally {
      await page.unroute(`**/api/missions/${second}`);
    }
  });

  it('given a mission whose guest data was altered in the log, then its row and its page say its guest data cannot be shown and to call an operator, with its id, also after a reload', async () => {
    await open('Missions', 'Missions');
    await page.getByText('Live', { exact: true }).waitFor();
    const title = `Towels for room 12 ${Date.now()}`;
    const id = await guestMission(title, { id: 'g-console-altered', name: 'Tom Altered' }, 'Two more towels, please.');
    await page.getByRole('link', { name: title }).waitFor();
    // As someone with write access to Redis could: the create once more, a character of its ciphertext changed.
    const log = system.keys.of(id).log;
    const created = (await system.redis.xrange(log, '-', '+')).map(([, fields]) => fields).find((fields) => fields.includes(id));
    const json = created?.[created.indexOf('e') + 1] ?? '';
    const token = (JSON.parse(json) as { data: { description: string } }).data.description;
    const altered = token.slice(0, -10) + (token.at(-10) === 'A' ? 'B' : 'A') + token.slice(-9);
    await system.redis.xadd(log, '*', 'm', id, 'e', json.replace(token, altered));

    // The intake's `unavailable` event naming the mission used to go unread: nothing said its data was damaged.
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: title }) });
    await row.getByText('Guest data damaged: cannot be shown. Call an operator').waitFor({ timeout: 5_000 });
    expect(await row.innerText()).toContain(id);
    expect(await seriousViolations()).toEqual([]);

    await page.getByRole('link', { name: title }).click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const alert = page.getByRole('alert').filter({ hasText: "This mission's guest data cannot be shown" });
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(new RegExp(`integrity check.*call an operator and give them the mission id ${id}`, 's'));
    expect(await seriousViolations()).toEqual([]);
    await screenshot('mission-guest-data-damaged');
    // The stream says it once; the tab keeps it, so a reload of the page still shows it.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    await alert.waitFor();
  });

  /**
   * Runs `work` with the stored state of mission `id` changed by `alter`, as someone with write
   * access to Redis could, and puts it back after: left damaged, a dead letter is one a bulk
   * requeue of the later tests must skip.
   */
  const withStoredStateAltered = async (id: string, alter: (state: string) => string, work: () => Promise<void>) => {
    const hash = system.keys.of(id).mission(id);
    const state = (await system.redis.hget(hash, MISSION_HASH_FIELDS.state)) ?? '';
    await system.redis.hset(hash, MISSION_HASH_FIELDS.state, alter(state));
    try {
      await work();
    } finally {
      await system.redis.hset(hash, MISSION_HASH_FIELDS.state, state);
    }
  };

  it('given a mission whose stored state was altered, then the Missions page still loads, its row saying its guest data cannot be shown', async () => {
    const title = `Blankets for room 14 ${Date.now()}`;
    const id = await guestMission(title, { id: 'g-console-state', name: 'Ada Altered' }, 'One more blanket, please.');
    await system.waitForStatus(id, ['dead_lettered']);
    // A character of the description's ciphertext changed.
    const altered = (state: string) => {
      const token = (JSON.parse(state) as { description: string }).description;
      return state.replace(token, token.slice(0, -10) + (token.at(-10) === 'A' ? 'B' : 'A') + token.slice(-9));
    };
    await withStoredStateAltered(id, altered, async () => {
      await signInAt('missions');

      // The whole page was a 500 for every role that reads guest data, and the same for the review inbox.
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: title }) });
      await row.getByText('Guest data damaged: cannot be shown. Call an operator').waitFor({ timeout: 10_000 });
      expect(await page.getByRole('alert').count()).toBe(0);
    });
  });

  it('given a mission whose stored state is no longer a mission, then the Missions page still loads, its row saying its state is damaged and naming it', async () => {
    const created = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: `Rates for the fair ${Date.now()}`, description: 'Compare.', priority: 'low', payload: {} })
      .expect(201);
    const id = created.body.id as string;
    await system.waitForStatus(id, ['dead_lettered']);
    await withStoredStateAltered(
      id,
      () => 'not a mission',
      async () => {
        await signInAt('missions');

        // The whole page was a 500 for everyone; then its row named guest data, which is not what was damaged.
        const row = page.getByRole('row').filter({ hasText: id });
        await row.getByText('Stored state damaged: cannot be shown. Call an operator').waitFor({ timeout: 10_000 });
        expect(await row.getByText('Guest data damaged').count()).toBe(0);
        expect(await page.getByRole('alert').count()).toBe(0);
      },
    );
  });

  it('given a dead letter, then Requeue on the Dead letters page requeues it as the operator', async () => {
    const created = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: 'Spa price list', description: 'Compare the spa prices.', priority: 'normal', payload: {} })
      .expect(201);
    await system.waitForStatus(created.body.id, ['dead_lettered']);
    await open('Dead letters', 'Dead letters');
    await page.getByRole('button', { name: 'Requeue Spa price list' }).click();
    await page.getByRole('status').filter({ hasText: 'Requeued “Spa price list”.' }).waitFor();
    // Its row left with the button, and the focus with them, to the body.
    await focusOnHeading(page, 'Dead letters');
    const history = await system.store.history(created.body.id);
    expect(history.find((event) => event.type === 'MissionRequeued')).toMatchObject({ actor: 'operator' });
    expect(await seriousViolations()).toEqual([]);
    await screenshot('dead-letters');
  });

  // The end of an action took the focus to the heading wherever it was: the next keys typed into a filter went nowhere.
  it('given a requeue still running, when the user moves on to a filter, then its end leaves the focus there', async () => {
    const created = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: 'Sauna price list', description: 'Compare the sauna prices.', priority: 'normal', payload: {} })
      .expect(201);
    await system.waitForStatus(created.body.id, ['dead_lettered']);
    await open('Queue', 'Queue');
    await open('Dead letters', 'Dead letters');
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**/api/dlq/${created.body.id}/requeue`, async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.getByRole('button', { name: 'Requeue Sauna price list' }).click();
      const filter = page.getByRole('searchbox', { name: 'Last error contains' });
      await filter.focus();
      release();
      await page.getByRole('status').filter({ hasText: 'Requeued “Sauna price list”.' }).waitFor();
      await page.keyboard.type('timeout');
      expect(await filter.inputValue()).toBe('timeout');
      await filter.fill('');
    } finally {
      await page.unroute(`**/api/dlq/${created.body.id}/requeue`);
    }
  });

  it('given filters on the Dead letters page, when a mission is opened and Back pressed, or the page reloaded, then they are kept, and typing in one survives a live reload', async () => {
    const deadLetter = async (type: string, title: string) => {
      const created = await system.api.post('/api/missions').send({ type, title, description: 'Check it.', priority: 'normal', payload: {} }).expect(201);
      await system.waitForStatus(created.body.id, ['dead_lettered']);
      return created.body.id as string;
    };
    const pillows = await deadLetter('guest_support', 'Pillow menu for room 7');
    await deadLetter('pricing', 'Minibar prices');
    const letters = (await system.api.get('/api/dlq?limit=200').expect(200)).body.items as { missionId: string; lastError: string | null }[];
    const lastError = letters.find((letter) => letter.missionId === pillows)?.lastError ?? '';
    expect(lastError).not.toBe('');
    await open('Dead letters', 'Dead letters');
    await page.getByText('Live', { exact: true }).waitFor();
    const kept = page.getByRole('link', { name: 'Pillow menu for room 7', exact: true });
    const filteredOut = page.getByRole('link', { name: 'Minibar prices', exact: true });
    await page.getByLabel('Type').selectOption('guest_support');
    await filteredOut.waitFor({ state: 'detached' });
    await kept.waitFor();

    // A dead letter arriving while the error filter is typed reloads the page: the typing stays.
    const errorFilter = page.getByLabel('Last error contains');
    await errorFilter.pressSequentially(lastError);
    await deadLetter('guest_support', 'Pillow menu for room 8');
    await page.getByRole('link', { name: 'Pillow menu for room 8', exact: true }).waitFor();
    expect(await errorFilter.inputValue()).toBe(lastError);
    await errorFilter.press('Enter');

    // They were the page's state alone: Back from a mission and a reload showed every dead letter again.
    const shown = async () => {
      await kept.waitFor();
      expect(await page.getByLabel('Type').inputValue()).toBe('guest_support');
      expect(await errorFilter.inputValue()).toBe(lastError);
      expect(await filteredOut.count()).toBe(0);
    };
    await kept.click();
    await page.getByRole('heading', { level: 1, name: 'Pillow menu for room 7' }).waitFor();
    await page.goBack();
    await shown();
    await page.reload();
    await shown();
    // The address alone holds them, as a shared link does.
    expect(new URL(page.url()).hash).toBe(`#/dead-letters?${new URLSearchParams({ type: 'guest_support', errorContains: lastError })}`);
  });

  it('given a mission cancelled on its page, then the outcome is said and the focus is on its heading', async () => {
    const title = `Pool towels ${Date.now()}`;
    const created = await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Towels.', priority: 'low', payload: {} }).expect(201);
    await page.goto(`${base}/console/#/missions/${created.body.id}`);
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    await page.getByRole('button', { name: 'Cancel mission' }).click();
    await page.getByRole('status').filter({ hasText: 'The mission was cancelled.' }).waitFor();
    // The button left with the mission cancelled, and the focus with it, to the body.
    await focusOnHeading(page, title);
    expect((await system.store.load(created.body.id))?.status).toBe('cancelled');
  });

  // "1 dead-lettered missions"; and its Cancel asked "Its agent stops working on it" of a mission no agent works on.
  it('given one dead letter shown, then the caption counts it as one, and its Cancel says what a cancel of a dead letter stops', async () => {
    const title = `Ice machine ${Date.now()}`;
    const id = (await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Ice.', priority: 'low', payload: {} }).expect(201)).body
      .id as string;
    await system.waitForStatus(id, ['dead_lettered']);
    // This dead letter alone, whatever the tests before left.
    await page.route(/\/api\/dlq\?/, async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { items: { missionId: string }[] };
      await route.fulfill({ response, json: { items: answer.items.filter((letter) => letter.missionId === id) } });
    });
    try {
      await signInAt('dead-letters');
      await page
        .getByRole('status')
        .filter({ hasText: /^1 dead-lettered mission, oldest first$/ })
        .waitFor();
    } finally {
      await page.unroute(/\/api\/dlq\?/);
    }
    await page.getByRole('link', { name: title }).click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const asked = page.waitForEvent('dialog');
    await page.getByRole('button', { name: 'Cancel mission' }).click();
    expect((await asked).message()).toBe('Cancel this mission? It leaves the dead letters and can no longer be requeued. This cannot be undone.');
    await page.getByRole('status').filter({ hasText: 'The mission was cancelled.' }).waitFor();
  });

  it('given the Agents page, then Pause and Resume change the agent', async () => {
    await open('Agents', 'Agents');
    await page.getByRole('button', { name: 'Pause Lena – Front Office (DE/EN)' }).click();
    await page.getByRole('button', { name: 'Resume Lena – Front Office (DE/EN)' }).waitFor();
    // The button was off while its request ran, which dropped the focus to the body.
    await focusOnHeading(page, 'Agents');
    expect((await system.api.get('/api/agents/agent-lena').expect(200)).body.status).toBe('paused');
    expect(await seriousViolations()).toEqual([]);
    await screenshot('agents');
    await page.getByRole('button', { name: 'Resume Lena – Front Office (DE/EN)' }).click();
    await page.getByRole('button', { name: 'Pause Lena – Front Office (DE/EN)' }).waitFor();
    expect((await system.api.get('/api/agents/agent-lena').expect(200)).body.status).toBe('online');
  });

  it("given another operator's change to an agent, then the Agents page shows it within 10 s, and an offline agent can be brought online", async () => {
    // On a fake clock, the page's own refresh comes at once.
    await inTabOnFakeClock(
      'agents',
      async () => undefined,
      async (tab) => {
        const lena = 'Lena – Front Office (DE/EN)';
        await tab.getByRole('button', { name: `Pause ${lena}` }).waitFor();
        // No mission event tells of it: the page kept showing Lena online.
        await system.api.patch('/api/agents/agent-lena').send({ status: 'offline', reason: 'night shift ends' }).expect(200);
        await tab.clock.runFor(10_000);
        // Why it is offline and who took it offline, where the status alone left staff asking.
        await tab.getByText('night shift ends (operator)').waitFor();
        // It offered "Pause" for an offline agent, and nothing to bring it back.
        await tab.getByRole('button', { name: `Bring online ${lena}` }).click();
        await tab.getByRole('button', { name: `Pause ${lena}` }).waitFor();
        expect((await system.api.get('/api/agents/agent-lena').expect(200)).body.status).toBe('online');
      },
    );
  });

  it('given no review policy, then the Review page says nothing waits for review', async () => {
    await open('Review', 'Review');
    await page.getByText('Nothing waits for review.').waitFor();
    expect(await seriousViolations()).toEqual([]);
    await screenshot('review');
  });

  it('given review enabled and more results than a page, then a reviewer pages through the inbox, sees a final rejection leave it live, and approves one and rejects another with feedback', async () => {
    // A second system, with the hotel's review policy: guest replies wait for a reviewer; one rejection is the last.
    const reviewing = await startInProcessSystem('e2e-console-review', { REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml', MAX_REVIEW_ROUNDS: '1' });
    try {
      await reviewing.intake.listen(0, '127.0.0.1');
      const origin = `http://127.0.0.1:${(reviewing.intake.getHttpServer().address() as AddressInfo).port}`;
      const reply = (title: string, description: string) => ({ type: 'guest_support', title, description, priority: 'normal', payload: {} });
      const create = async (title: string, description = 'Guest asks for a late check-out.') =>
        (await reviewing.api.post('/api/missions').send(reply(title, description)).expect(201)).body.id as string;
      // A guest's own words: in lines, with a link of one long word.
      const request = `Could we stay until 14:00 on Sunday?\nOur flight leaves late.\n\nBooking: https://booking.example/${'r'.repeat(150)}`;
      const approved = await create('Late check-out for room 12', request);
      const rejected = await create('Parking for room 14');
      for (const id of [approved, rejected]) await reviewing.waitForStatus(id, ['awaiting_review']);
      // Waiting less long than those two: 20 more make 22, a page (20) and two.
      const towels: string[] = [];
      for (let n = 1; n <= 20; n++) towels.push(await create(`Towels for room ${100 + n}`));
      for (const id of towels) await reviewing.waitForStatus(id, ['awaiting_review']);

      await page.goto(`${origin}/console/#/review`);
      await page.getByLabel('API key').fill(TEST_KEYS.reviewer);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Review' }).waitFor();
      const first = page.getByRole('article', { name: 'Late check-out for room 12' });
      const second = page.getByRole('article', { name: 'Parking for room 14' });
      await first.waitFor();
      await second.waitFor();
      expect(await page.getByRole('article').count()).toBe(20);
      // The card showed the title and the output alone: nothing of what the guest asked, nor why the judge passed it.
      expect(await first.getByRole('definition').filter({ hasText: 'Could we stay' }).innerText()).toBe(request);
      const evaluation = (await reviewing.store.load(approved))?.evaluation;
      await first
        .getByRole('definition')
        .filter({ hasText: `score ${evaluation?.score}: ${evaluation?.reason}` })
        .waitFor();
      // Nor which rule of the review policy held it.
      await first
        .getByRole('definition')
        .filter({ hasText: /^guest-replies$/ })
        .waitFor();
      expect(await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
      expect(await seriousViolations()).toEqual([]);
      await screenshot('review-inbox');

      // The two waiting least long are on the next page, and only there; pressed from the keyboard,
      // More recent keeps the focus (it was disabled while the page loaded, and the focus fell to the body), and the count is said.
      await page.getByRole('button', { name: 'More recent' }).focus();
      await page.keyboard.press('Enter');
      await first.waitFor({ state: 'detached' });
      // The next page renders after its read: counted at once, it was sometimes still empty.
      await waitFor(async () => (await page.getByRole('article').count()) === 2, { timeoutMs: 10_000, what: 'the next page of the inbox' });
      expect(await page.getByRole('button', { name: 'More recent' }).isDisabled()).toBe(true);
      await focusOn(page, 'BUTTON More recent');
      await page.getByRole('status').filter({ hasText: '2 results on this page, the longest waiting first' }).waitFor();
      // The page turned was the page's state alone: a reload, or Back from a result's mission, showed the first page again.
      const onNextPage = async () => {
        await waitFor(async () => (await page.getByRole('article').count()) === 2, { timeoutMs: 10_000, what: 'the next page of the inbox again' });
        expect(await page.getByRole('button', { name: 'Longer waiting' }).isEnabled()).toBe(true);
      };
      await page.reload();
      await onNextPage();
      const recent = page.getByRole('article').first().getByRole('heading').getByRole('link');
      const recentTitle = await recent.innerText();
      await recent.click();
      await page.getByRole('heading', { level: 1, name: recentTitle }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { level: 1, name: 'Review' }).waitFor();
      await onNextPage();
      // The address alone holds it, as a shared link does.
      expect(page.url()).toMatch(/#\/review\?cursor=[^&]+$/);
      await page.getByRole('button', { name: 'Longer waiting' }).click();
      await first.waitFor();
      expect(page.url()).toMatch(/#\/review$/);

      // Another reviewer's last rejection dead-letters a result: it leaves this inbox without a reload.
      const towel = page.getByRole('article', { name: 'Towels for room 101' });
      await towel.waitFor();
      await towel.getByRole('button', { name: 'Approve', exact: true }).focus();
      await reviewing.api.post(`/api/missions/${towels[0]}/reject`).send({ feedback: 'Ask housekeeping first.' }).expect(200);
      await towel.waitFor({ state: 'detached' });
      // It went without a word, and the focus in it fell to the body.
      await page.getByRole('status').filter({ hasText: 'Towels for room 101: left the inbox, decided by another reviewer or cancelled.' }).waitFor();
      await focusOnHeading(page, 'Review');
      expect((await reviewing.store.load(towels[0]))?.status).toBe('dead_lettered');

      // Feedback typed into a card that another reviewer decides meanwhile: the card used to vanish, and the text with it.
      const typedIn = page.getByRole('article', { name: 'Towels for room 102' });
      await typedIn.getByLabel('Feedback (for Reject)').fill('Offer bath towels too.');
      await reviewing.api.post(`/api/missions/${towels[1]}/approve`).send({}).expect(200);
      await typedIn.getByRole('note').filter({ hasText: 'This result has left the inbox' }).waitFor();
      await page.getByRole('status').filter({ hasText: 'Towels for room 102: left the inbox, decided by another reviewer or cancelled.' }).waitFor();
      expect(await typedIn.getByLabel('Feedback (for Reject)').inputValue()).toBe('Offer bath towels too.');
      expect(await typedIn.getByRole('button', { name: 'Reject' }).count()).toBe(0);
      await typedIn.getByRole('button', { name: 'Dismiss' }).click();
      await typedIn.waitFor({ state: 'detached' });
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Review');

      // Every decision button is reached by Tab while it waits, and pressed says why and sends nothing:
      // Edit and approve and Reject were disabled, skipped, until an edit or feedback.
      const decisions: string[] = [];
      const decision = (sent: { url: () => string; method: () => string }) => {
        if (sent.method() === 'POST' && sent.url().includes(`/api/missions/${approved}/`)) decisions.push(sent.url());
      };
      page.on('request', decision);
      await first.getByLabel('Feedback (for Reject)').focus();
      await page.keyboard.press('Tab');
      await focusOn(page, 'BUTTON Approve');
      await page.keyboard.press('Tab');
      await focusOn(page, 'BUTTON Edit and approve');
      await page.keyboard.press('Enter');
      await first.getByRole('status').filter({ hasText: 'Edit the output first' }).waitFor();
      await page.keyboard.press('Tab');
      await focusOn(page, 'BUTTON Reject');
      await page.keyboard.press('Enter');
      await first.getByRole('status').filter({ hasText: 'Write feedback first' }).waitFor();

      // An edit not approved as such holds Approve back: it approved the agent's result and dropped the edit without a word.
      const approve = first.getByRole('button', { name: 'Approve', exact: true });
      const output = first.getByLabel('Output');
      const asDelivered = await output.inputValue();
      await output.fill(asDelivered.replace('{', '{ '));
      expect(await approve.isDisabled()).toBe(true);
      // Still reached, and its description, why it waits, read: disabled, it was skipped.
      await approve.focus();
      const describedBy = await approve.getAttribute('aria-describedby');
      expect(await page.locator(`[id="${describedBy}"]`).innerText()).toMatch(/^The output is edited: Approve would approve/);
      await page.keyboard.press('Enter');
      await first.getByRole('status').filter({ hasText: 'The output is edited' }).waitFor();
      // Undo edits goes with the edits: the focus goes to Approve, not the body.
      await first.getByRole('button', { name: 'Undo edits' }).focus();
      await page.keyboard.press('Enter');
      expect(await output.inputValue()).toBe(asDelivered);
      await focusOn(page, 'BUTTON Approve');
      page.off('request', decision);
      expect(decisions).toEqual([]);

      // The decision names the attempt it was made on, and is said at the top, where the focus goes, as the card leaves.
      const sent = page.waitForRequest((request) => request.url().endsWith(`/api/missions/${approved}/approve`));
      await approve.click();
      expect((await sent).postDataJSON()).toEqual({ attempt: 1 });
      await first.waitFor({ state: 'detached' });
      await page.getByRole('status').filter({ hasText: 'Late check-out for room 12: approved.' }).waitFor();
      await focusInside(second);
      expect((await reviewing.store.history(approved)).find((event) => event.type === 'MissionApproved')).toMatchObject({ actor: 'reviewer' });
      expect((await reviewing.store.load(approved))?.status).toBe('succeeded');

      await second.getByLabel('Feedback (for Reject)').fill('Name the parking fee.');
      await second.getByRole('button', { name: 'Reject' }).click();
      // The retry may be held for review again at once, so the item can come back: the event tells.
      const rejection = await waitFor(async () => (await reviewing.store.history(rejected)).find((event) => event.type === 'MissionRejected'), {
        timeoutMs: 20_000,
        what: 'the rejection to be recorded',
      });
      expect(rejection).toMatchObject({
        actor: 'reviewer',
        data: { feedback: 'Name the parking fee.' },
      });
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor();
    } finally {
      await reviewing.close();
    }
    // A second system of its own, 22 missions through its pipeline and three page loads: ~10 s here,
    // and more than the default minute once in a Redis Cluster run on a loaded machine.
  }, 120_000);

  // A decision sent the focus to the page's heading: a keyboard reviewer found the next card again from the top, each time.
  it('given the keyboard alone, when a card is approved, then the focus goes to the next card to decide, to the one before after the last, and to the heading once none is left', async () => {
    const reviewing = await startInProcessSystem('e2e-console-review-keys', { REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml' });
    try {
      await reviewing.intake.listen(0, '127.0.0.1');
      const origin = `http://127.0.0.1:${(reviewing.intake.getHttpServer().address() as AddressInfo).port}`;
      // One after the other, so the inbox (the longest waiting first) shows them in this order.
      const titles = ['Extra pillows for room 21', 'Crib for room 22', 'Taxi for room 23'];
      for (const title of titles) {
        const created = await reviewing.api
          .post('/api/missions')
          .send({ type: 'guest_support', title, description: 'Guest asks.', priority: 'normal', payload: {} })
          .expect(201);
        await reviewing.waitForStatus(created.body.id, ['awaiting_review']);
      }
      await page.goto(`${origin}/console/`);
      await page.evaluate(`sessionStorage.setItem('brain.apiKey', '${TEST_KEYS.reviewer}')`);
      await page.goto(`${origin}/console/#/review`);
      await page.reload();
      const [pillows, crib, taxi] = titles.map((title) => page.getByRole('article', { name: title }));
      for (const card of [pillows, crib, taxi]) await card.waitFor();
      /** Tab, from where the focus is, on to `card`'s Approve, and press it. */
      const approveWithKeys = async (card: Locator) => {
        const onApprove = () => card.getByRole('button', { name: 'Approve', exact: true }).evaluate((button) => button === button.ownerDocument.activeElement);
        for (let presses = 0; !(await onApprove()); presses++) {
          if (presses === 60) throw new Error(`Tab never reached Approve in the card; the focus is on ${await page.evaluate<string>(FOCUSED)}`);
          await page.keyboard.press('Tab');
        }
        await page.keyboard.press('Enter');
        await card.waitFor({ state: 'detached' });
      };

      await approveWithKeys(pillows);
      await focusInside(crib);
      await page.getByRole('status').filter({ hasText: 'Extra pillows for room 21: approved.' }).waitFor();
      // The last card decided: the one before it is still to decide.
      await approveWithKeys(taxi);
      await focusInside(crib);
      // None left: the heading, above what the decision says.
      await approveWithKeys(crib);
      await page.getByText('Nothing waits for review.').waitFor();
      await focusOnHeading(page, 'Review');
    } finally {
      await reviewing.close();
    }
  }, 60_000);

  it("given a card typed in whose result another reviewer rejects, when the next attempt comes back for review, then both cards keep labels of their own; a guest's words read in their own direction; a decision the intake never answered says it is not known", async () => {
    const title = 'Late check-out for room 31';
    await withCardUnderReview('e2e-console-review-again', title, 'Guest asks for a late check-out.', async ({ reviewing, id, card: cards }) => {
      // The guest's words in their own direction, paragraph by paragraph: all laid out left to right, a guest's Arabic had its emoji at the sentence's start.
      const words = cards.getByRole('definition').filter({ hasText: 'Guest asks for a late check-out.' });
      expect(await words.evaluate((element) => element.ownerDocument.defaultView?.getComputedStyle(element).unicodeBidi)).toBe('plaintext');
      expect(await cards.getByRole('link', { name: title }).getAttribute('dir')).toBe('auto');

      // A decision sent while the intake gives no answer: the browser's "Failed to fetch" said nothing of whether it was recorded.
      await page.route(`**/api/missions/${id}/approve`, (route) => route.abort('connectionrefused'));
      try {
        await cards.getByRole('button', { name: 'Approve', exact: true }).click();
        await cards
          .getByRole('alert')
          .filter({ hasText: /^The intake cannot be reached .*whether this was done is not known/ })
          .waitFor();
      } finally {
        await page.unroute(`**/api/missions/${id}/approve`);
      }

      await cards.getByLabel('Feedback (for Reject)').fill('Mention the fee.');
      await reviewing.api
        .post(`/api/missions/${id}/reject`)
        .set('Authorization', `Bearer ${TEST_KEYS.operator}`)
        .send({ feedback: 'Say when.', attempt: 1 })
        .expect(200);
      await reviewing.waitForStatus(id, ['awaiting_review']);
      await waitFor(async () => (await cards.count()) === 2, { timeoutMs: 20_000, what: 'the kept card and the next attempt’s card' });
      // Each card's fields used the mission's id alone: both cards had the same ids, the kept card's fields had no name and its labels led into the other card.
      const ids = await page.evaluate<string[]>('[...document.querySelectorAll("[id]")].map((element) => element.id)');
      expect(ids.filter((candidate, at) => ids.indexOf(candidate) !== at)).toEqual([]);
      const kept = cards.filter({ has: page.getByRole('note').filter({ hasText: 'This result has left the inbox' }) });
      expect(await kept.getByLabel('Feedback (for Reject)').inputValue()).toBe('Mention the fee.');
      expect(
        await cards
          .filter({ hasNot: page.getByRole('note') })
          .getByLabel('Feedback (for Reject)')
          .inputValue(),
      ).toBe('');
    });
  }, 90_000);

  it('given the live stream down, when a reviewer decides a result another reviewer decided first, then the refusal reads the inbox again and the card leaves it', async () => {
    const title = 'Extra towels for room 12';
    // The live stream would say the result left the inbox: without it, only the refusal can.
    await page.route('**/api/stream?*', (route) => route.abort('connectionrefused'));
    try {
      await withCardUnderReview('e2e-console-review-refused', title, 'Guest asks for extra towels.', async ({ reviewing, id, card }) => {
        await reviewing.api.post(`/api/missions/${id}/approve`).set('Authorization', `Bearer ${TEST_KEYS.operator}`).send({ attempt: 1 }).expect(200);
        const refused = page.waitForResponse((response) => response.url().endsWith(`/api/missions/${id}/approve`) && response.status() === 409);
        await card.getByRole('button', { name: 'Approve', exact: true }).click();
        await refused;
        // It kept its buttons, each press another 409, until the page was reloaded by hand.
        await page
          .getByRole('status')
          .filter({ hasText: `${title}: left the inbox, decided by another reviewer or cancelled.` })
          .waitFor();
        expect(await card.count()).toBe(0);
      });
    } finally {
      await page.unroute('**/api/stream?*');
    }
  }, 90_000);

  // Approve was offered on the card that said its guest data was damaged: the intake recorded the
  // approval (the reply no one had read went out) and answered a 500; its page was that 500 alone.
  // A live stream's note is kept for the tab's session: once it had named the mission, the card
  // offered no decision, also after an operator mended the data, while the intake took decisions.
  it('given a live stream note that a mission under review was damaged, when the intake answers it whole, then its card offers the decisions', async () => {
    await withCardUnderReview('e2e-console-review-noted', 'Spa towels for room 7', 'Guest asks for spa towels.', async ({ id, card }) => {
      await card.getByRole('button', { name: 'Approve', exact: true }).waitFor();
      const noted = { [id]: `stored guest data fails its authentication check (mission ${id})` };
      await page.evaluate(`sessionStorage.setItem('brain.unavailableGuestData', ${JSON.stringify(JSON.stringify(noted))})`);
      await page.reload();
      await card.waitFor();
      await card.getByRole('button', { name: 'Approve', exact: true }).waitFor({ timeout: 5_000 });
      expect(await card.getByText('No decision can be taken on this result').count()).toBe(0);
    });
  }, 90_000);

  it('given a result under review whose stored guest data was altered, then its card offers no decision and says why, and its page the staff alert', async () => {
    await withCardUnderReview('e2e-console-review-damaged', 'Pool towels for room 8', 'Guest asks for pool towels.', async ({ reviewing, card: whole }) => {
      const title = 'Sauna hours for room 9';
      const id = (
        await reviewing.api
          .post('/api/missions')
          .send({
            type: 'guest_support',
            title,
            description: 'The guest asks when the sauna opens.',
            priority: 'normal',
            payload: { language: 'en', guest: { id: 'g-console-damaged', name: 'Dana Damaged' }, message: 'When does the sauna open?' },
          })
          .expect(201)
      ).body.id as string;
      await reviewing.waitForStatus(id, ['awaiting_review']);
      const restore = await alterStoredDescription(reviewing.redis, reviewing.keys, id);
      try {
        await page.reload();
        const card = page.getByRole('article', { name: title });
        await card.getByText('Guest data damaged: cannot be shown. Call an operator').waitFor();
        await card.getByText('No decision can be taken on this result while its guest data is damaged').waitFor();
        for (const name of ['Approve', 'Edit and approve', 'Reject'])
          expect({ name, offered: await card.getByRole('button', { name, exact: true }).count() }).toEqual({ name, offered: 0 });
        expect(await card.getByLabel('Output').getAttribute('readonly')).not.toBeNull();
        // The card beside it, whose data is whole, is decided as ever.
        await whole.getByRole('button', { name: 'Approve', exact: true }).waitFor();
        expect(await seriousViolations()).toEqual([]);

        await card.getByRole('link', { name: title }).click();
        await page.getByRole('heading', { level: 1, name: title }).waitFor();
        const alert = page.getByRole('alert').filter({ hasText: "This mission's guest data cannot be shown" });
        await alert.waitFor();
        expect(await alert.innerText()).toMatch(
          new RegExp(`call an operator and give them the mission id ${id}.*For the operator: stored guest data fails its authentication check`, 's'),
        );
        expect(
          await page
            .getByRole('alert')
            .filter({ hasText: /^stored guest data fails/ })
            .count(),
        ).toBe(0);
      } finally {
        await restore();
      }
    });
  }, 90_000);

  // A decision the intake recorded but answered with a 500 unmounted the card, its error with it, and blamed another reviewer.
  it('given a decision that fails after the intake recorded it, then its card stays with the error, says the decision may have been recorded, and blames no one', async () => {
    const title = 'Iron for room 15';
    await withCardUnderReview('e2e-console-review-failed', title, 'Guest asks for an iron.', async ({ reviewing, id, card }) => {
      await page.route(`**/api/missions/${id}/approve`, async (route) => {
        await route.fetch();
        await route.fulfill({
          status: 500,
          contentType: 'application/json',
          body: JSON.stringify({ statusCode: 500, error: 'Internal Server Error', message: 'internal error', details: [] }),
        });
      });
      try {
        await card.getByRole('button', { name: 'Approve', exact: true }).click();
        await reviewing.waitForStatus(id, ['succeeded']);
        await card
          .getByRole('note')
          .filter({ hasText: 'This result has left the inbox since your decision failed (below): it may have been recorded' })
          .waitFor();
        expect(await card.getByRole('alert').innerText()).toBe('internal error');
        expect(await page.getByRole('status').filter({ hasText: 'decided by another reviewer' }).count()).toBe(0);
        await focusInside(card);
        await card.getByRole('button', { name: 'Dismiss' }).click();
        await card.waitFor({ state: 'detached' });
        await focusOnHeading(page, 'Review');
      } finally {
        await page.unroute(`**/api/missions/${id}/approve`);
      }
    });
  }, 90_000);

  // An output edited with a line break typed into a text said "not valid JSON" and no more: not where, not why.
  it('given an edit with a line break typed into a text, then the card says where the JSON broke and how to write it; an edit the intake refuses says why; a mended edit is approved, the original kept', async () => {
    const title = 'Late breakfast for room 16';
    await withCardUnderReview('e2e-console-review-edit', title, 'Guest asks for a late breakfast.', async ({ reviewing, id, card }) => {
      const output = card.getByLabel('Output');
      const asDelivered = await output.inputValue();
      const original = JSON.parse(asDelivered) as { reply: string };
      const editAndApprove = card.getByRole('button', { name: 'Edit and approve' });

      await output.fill(asDelivered.replace('"reply": "', '"reply": "Good morning,\n'));
      await editAndApprove.click();
      const invalid = card
        .getByRole('alert')
        .filter({ hasText: /^The edited output is not valid JSON: .*position \d+.*\. Write a line break inside a text as \\n\.$/ });
      await invalid.waitFor();
      expect(await output.getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator(`[id="${await output.getAttribute('aria-describedby')}"]`).innerText()).toBe(await invalid.innerText());

      // Mended (the line break written as \n), it is JSON again: the note and the mark go.
      const edited = { ...original, reply: `Good morning,\n${original.reply}` };
      await output.fill(JSON.stringify({ ...edited, reply: undefined }, null, 2));
      await invalid.waitFor({ state: 'detached' });
      expect(await output.getAttribute('aria-invalid')).toBeNull();
      expect(await output.getAttribute('aria-describedby')).toBeNull();
      // Without its reply the intake refuses it: its reason is on the card, which stays.
      await editAndApprove.click();
      await card.getByRole('alert').filter({ hasText: "output is not shaped like the agent's result: output: reply is required" }).waitFor();
      expect((await reviewing.store.load(id))?.status).toBe('awaiting_review');

      await output.fill(JSON.stringify(edited, null, 2));
      await editAndApprove.click();
      await page
        .getByRole('status')
        .filter({ hasText: `${title}: approved with edits.` })
        .waitFor();
      await card.waitFor({ state: 'detached' });
      // As the API shows it (the store holds its guest texts sealed).
      const approved = (await reviewing.api.get(`/api/missions/${id}`).expect(200)).body as {
        status: string;
        result?: { output: unknown };
        review?: { originalOutput?: unknown };
      };
      expect(approved.status).toBe('succeeded');
      expect(approved.result?.output).toEqual(edited);
      expect(approved.review?.originalOutput).toEqual(original);
    });
  }, 90_000);

  it('given a review waiting past REVIEW_TIMEOUT_MS, then the Queue page shows it awaiting review, overdue and how long it waited, and links to the Review page', async () => {
    const title = 'Spare key for room 9';
    await withCardUnderReview(
      'e2e-console-review-backlog',
      title,
      'Guest lost the key card.',
      async () => {
        await open('Queue', 'Queue');
        const backlog = { awaiting: tile('Awaiting review'), overdue: tile('Overdue'), oldest: tile('Oldest waiting') };
        // Found overdue by the intake's sweep a moment after the review was asked for: shown live.
        await backlog.overdue.filter({ hasText: /^1$/ }).waitFor();
        expect(await backlog.awaiting.innerText()).toBe('1');
        expect(await backlog.oldest.innerText()).toMatch(/^\d+ (ms|s|min \d+ s)$/);
        expect(await seriousViolations()).toEqual([]);
        await page.getByRole('link', { name: 'Go to the Review page' }).click();
        await page.getByRole('heading', { level: 1, name: 'Review' }).waitFor();
        await page.getByRole('article', { name: title }).waitFor();
      },
      { REVIEW_TIMEOUT_MS: '100' },
    );
  }, 90_000);

  it("given MAX_REVIEW_ROUNDS 2, when a result comes back for review after a rejection, then its card says by Reject that a rejection dead-letters it, as Reject's description; the first round's card says nothing of it", async () => {
    const title = 'Airport taxi for room 22';
    await withCardUnderReview(
      'e2e-console-review-round',
      title,
      'Guest asks for a taxi at 6:00.',
      async ({ reviewing, id, card }) => {
        /** The texts of what a card's Reject button names as its description (aria-describedby), in order. */
        const rejectDescription = async (of: Locator) => {
          const refs = (await of.getByRole('button', { name: 'Reject' }).getAttribute('aria-describedby')) ?? '';
          return Promise.all(refs.split(' ').map((ref) => page.locator(`[id="${ref}"]`).textContent()));
        };
        const note = 'Last review round: a rejection dead-letters it, and only an operator can requeue it.';
        expect(await card.getByText(note).count()).toBe(0);
        expect(await rejectDescription(card)).toEqual(['Write feedback first: a rejection tells the agent what to change.']);

        await reviewing.api.post(`/api/missions/${id}/reject`).send({ feedback: 'Say the fare.', attempt: 1 }).expect(200);
        // The next attempt's result, live: a card of its own (attempt 2), in the last round.
        const last = page.getByRole('article', { name: title }).filter({ hasText: 'attempt 2' });
        await last.getByText(note).waitFor();
        expect(await page.getByRole('article').count()).toBe(1);
        // Held (no feedback yet), why first, then what it would do; with feedback, what it would do alone.
        expect(await rejectDescription(last)).toEqual(['Write feedback first: a rejection tells the agent what to change.', note]);
        await last.getByLabel('Feedback (for Reject)').fill('Still no fare.');
        expect(await rejectDescription(last)).toEqual([note]);
        expect(await seriousViolations()).toEqual([]);
        await screenshot('review-last-round');
      },
      { MAX_REVIEW_ROUNDS: '2' },
    );
  }, 90_000);

  // The last rejection allowed dead-letters the result, which a reviewer cannot see on Dead letters: the console said "rejected." alone.
  it('given the last review round, when a reviewer rejects a result on a later page, then the console says it was dead-lettered and an operator can requeue it, and the emptied page says where the earlier results are', async () => {
    const title = 'Parking for room 17';
    await withCardUnderReview(
      'e2e-console-review-last',
      'Quiet room for room 18',
      'Guest asks for a quiet room.',
      async ({ reviewing }) => {
        const later = (
          await reviewing.api
            .post('/api/missions')
            .send({ type: 'guest_support', title, description: 'Guest asks.', priority: 'normal', payload: {} })
            .expect(201)
        ).body.id as string;
        await reviewing.waitForStatus(later, ['awaiting_review']);
        // The page after the first result, as More recent turns to it: the later result alone.
        const { nextCursor } = (await reviewing.api.get('/api/reviews?limit=1').expect(200)).body as { nextCursor: string };
        await page.goto(`${new URL(page.url()).origin}/console/#/review?${new URLSearchParams({ cursor: nextCursor })}`);
        const card = page.getByRole('article', { name: title });
        await card.waitFor();
        expect(await page.getByRole('article').count()).toBe(1);

        await card.getByLabel('Feedback (for Reject)').fill('Name the parking fee.');
        await card.getByRole('button', { name: 'Reject' }).click();
        await page
          .getByRole('status')
          .filter({ hasText: `${title}: rejected; that was its last review round, so it was dead-lettered: an operator can requeue it.` })
          .waitFor();
        expect((await reviewing.store.load(later))?.status).toBe('dead_lettered');
        // The page emptied said nothing at all.
        await page.getByText('Nothing more recent waits for review; go to Longer waiting for the earlier results.').waitFor();
        await page.getByRole('button', { name: 'Longer waiting' }).click();
        await page.getByRole('article', { name: 'Quiet room for room 18' }).waitFor();
      },
      { MAX_REVIEW_ROUNDS: '1' },
    );
  }, 90_000);

  it("given results under review, then each card and the mission's page show what it is judged by: the guest's message and language, a pricing's rates, and when the review was asked for; to a reader key the guest's words are [redacted]", async () => {
    // Reviews overdue after a second: MissionReviewOverdue moves updatedAt on, and the card's time must not move with it.
    const reviewing = await startInProcessSystem('e2e-console-review-basis', { REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml', REVIEW_TIMEOUT_MS: '1000' });
    try {
      await reviewing.intake.listen(0, '127.0.0.1');
      const origin = `http://127.0.0.1:${(reviewing.intake.getHttpServer().address() as AddressInfo).port}`;
      const guest = await reviewing.api.post('/api/missions').send(LATE_CHECK_OUT).expect(201);
      // Occupancy lifts the rate past the ceiling, where the draft stops: held by pricing-at-rate-bound.
      const pricing = await reviewing.api
        .post('/api/missions')
        .send({
          type: 'pricing',
          title: 'Rate for the fair night',
          description: 'Set the double room rate.',
          priority: 'normal',
          payload: { currency: 'EUR', currentRate: 100, minRate: 80, maxRate: 108, occupancy: 0.95 },
        })
        .expect(201);
      const guestId = guest.body.id as string;
      for (const id of [guestId, pricing.body.id as string]) await reviewing.waitForStatus(id, ['awaiting_review']);
      const held = await waitFor(
        async () => {
          const mission = await reviewing.store.load(guestId);
          return mission?.review?.overdueAt ? mission : null;
        },
        { timeoutMs: 10_000, what: 'the guest reply review found overdue' },
      );

      await page.goto(`${origin}/console/#/review`);
      await page.getByLabel('API key').fill(TEST_KEYS.reviewer);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const reply = page.getByRole('article', { name: LATE_CHECK_OUT.title });
      const rate = page.getByRole('article', { name: 'Rate for the fair night' });
      await reply.waitFor();
      await rate.waitFor();
      // The card showed the staff's summary alone: not what the guest wrote, nor in which language the reply must be.
      const shown = async (card: Locator, term: string) =>
        (await card.getByRole('term').filter({ hasText: term }).locator('xpath=following-sibling::dd').innerText()).trim();
      expect(await shown(reply, "Guest's message")).toBe(GUEST_MESSAGE);
      expect(await shown(reply, "Guest's language")).toBe('de');
      // Nor the rates the pricing rules held it for.
      expect(await shown(rate, 'currentRate')).toBe('100');
      expect(await shown(rate, 'minRate')).toBe('80');
      expect(await shown(rate, 'maxRate')).toBe('108');
      await rate
        .getByRole('definition')
        .filter({ hasText: /^pricing-(at-rate-bound|large-change)/ })
        .waitFor();
      // Its time was updatedAt, unlabelled, which the review's going overdue moved on; now it is when the review was asked for.
      const asked = await page.evaluate<string, string>(
        (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'long' }),
        held.review?.requestedAt ?? '',
      );
      const line = `${LATE_CHECK_OUT.type} · ${LATE_CHECK_OUT.priority} · attempt ${held.attempts} · `;
      expect(await reply.getByText(line).innerText()).toBe(`${line}review asked for ${asked}`);
      expect(await seriousViolations()).toEqual([]);
      await screenshot('review-basis');

      // The mission's own page showed neither what was asked nor the result, but in the timeline's raw event data.
      const body = page.locator('body');
      await reply.getByRole('link', { name: LATE_CHECK_OUT.title }).click();
      await page.getByRole('heading', { level: 2, name: 'Request' }).waitFor();
      expect(await shown(body, "Guest's message")).toBe(GUEST_MESSAGE);
      expect(await shown(body, "Guest's language")).toBe('de');
      const payload = page.locator('details', { hasText: 'Whole payload' });
      await payload.getByText('Whole payload').click();
      await payload.getByText('"roomNumber": 701').waitFor();
      const evaluation = held.evaluation;
      expect(await shown(body, "Judge's verdict")).toBe(`score ${evaluation?.score} (passed): ${evaluation?.reason}`);
      const { output } = (await reviewing.api.get(`/api/missions/${guestId}`).expect(200)).body.result;
      expect(JSON.parse(await page.getByLabel(`Output of attempt ${held.attempts}`).innerText())).toEqual(output);
      expect(await seriousViolations()).toEqual([]);
      await page.getByRole('button', { name: 'Sign out' }).click();

      // A reader reads the inbox without the guest's data: the API redacts it, and the card shows that as it is.
      await page.goto(`${origin}/console/#/review`);
      await page.getByLabel('API key').fill(TEST_KEYS.reader);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await reply.waitFor();
      expect(await shown(reply, "Guest's message")).toBe('[redacted]');
      expect(await shown(reply, "Guest's language")).toBe('de');
      expect(await reply.innerText()).not.toContain('Zug');
      await reply.getByRole('link', { name: LATE_CHECK_OUT.title }).click();
      await page.getByRole('heading', { level: 2, name: 'Request' }).waitFor();
      expect(await shown(body, "Guest's message")).toBe('[redacted]');
      expect(await body.innerText()).not.toContain('Zug');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor();
    } finally {
      await reviewing.close();
    }
  }, 120_000);

  it('given the keyboard alone, then the skip link and the navigation reach every page', async () => {
    await page.goto(`${base}/console/#/queue`);
    // A fresh load, so the focus starts at the top of the document.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Queue' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    for (let i = 0; i < 5; i += 1) await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Agents');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();
  });

  it('given the skip link, when it is followed with the keyboard, then the focus is in the content and the page stays', async () => {
    await inTabOnFakeClock(
      'missions',
      async () => undefined,
      async (tab) => {
        await tab.getByRole('heading', { level: 1, name: 'Missions' }).waitFor();
        await tab.keyboard.press('Tab');
        expect(await tab.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
        await tab.keyboard.press('Enter');
        // It went to #main, which the console reads as a page: "No such page.", and the Missions page gone.
        expect(await tab.evaluate('location.hash')).toBe('#/missions');
        expect(await tab.evaluate('document.activeElement?.id')).toBe('main');
        await tab.keyboard.press('Tab');
        expect(await tab.evaluate("document.activeElement?.closest('main')?.id")).toBe('main');
        expect(await tab.getByText('No such page.').count()).toBe(0);
      },
    );
  });

  it('given another page opened, then the tab says which page it is and the focus is on its heading, but not on the first page', async () => {
    await inTabOnFakeClock(
      'queue',
      async () => undefined,
      async (tab) => {
        // The title changes after the page has painted its heading: waited for, not read at once.
        const titled = (expected: string) => waitFor(async () => (await tab.title()) === expected, { timeoutMs: 5_000, what: `the title ${expected}` });
        await tab.getByRole('heading', { level: 1, name: 'Queue' }).waitFor();
        await titled('Queue — BRAIN console');
        expect(await tab.evaluate('document.activeElement === document.body')).toBe(true);
        await tab.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Dead letters', exact: true }).click();
        await tab.getByRole('heading', { level: 1, name: 'Dead letters' }).waitFor();
        // The tab said "BRAIN console" on every page, and the focus stayed on the link just followed.
        await titled('Dead letters — BRAIN console');
        await focusOnHeading(tab, 'Dead letters');
      },
    );
  });

  it("given a mission's page, then the tab is named after the mission, and a broken hash chain's problems are there to read, not in a hover title", async () => {
    const title = `Terrace rates ${Date.now()}`;
    const created = await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Rates.', priority: 'low', payload: {} }).expect(201);
    const problems = ['event 2: hash does not match its content', 'event 3: previous hash is not event 2'];
    // As a chain altered where it is stored: the verify answer is made up, the page reads it as any.
    await page.route(`**/api/missions/${created.body.id}/verify`, (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ verified: false, events: 3, problems }) }),
    );
    try {
      await signInAt(`missions/${created.body.id}`);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      // Every mission's tab said "Mission — BRAIN console".
      await waitFor(async () => (await page.title()) === `${title} — Mission — BRAIN console`, { timeoutMs: 5_000, what: "the mission's title in the tab" });
      await page.getByText('Not verified: 2 problems').waitFor();
      // They were only in the badge's title, shown on hover.
      expect(await page.getByRole('list', { name: 'Verification problems' }).getByRole('listitem').allInnerTexts()).toEqual(problems);
    } finally {
      await page.unroute(`**/api/missions/${created.body.id}/verify`);
    }
  });

  // The badge said "Hash chain verified" over the forged title: the chain held, and nothing held what the page showed to it.
  it('given a mission whose stored state was forged beside its intact chain, then its page says it is not verified, and why', async () => {
    const title = `Garden rates ${Date.now()}`;
    const created = await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Rates.', priority: 'low', payload: {} }).expect(201);
    await system.waitForStatus(created.body.id, ['dead_lettered']);
    const forged = (state: string) => JSON.stringify({ ...(JSON.parse(state) as object), title: `${title} (forged)` });

    await withStoredStateAltered(created.body.id as string, forged, async () => {
      await signInAt(`missions/${created.body.id}`);
      await page.getByRole('heading', { level: 1, name: `${title} (forged)` }).waitFor();
      await page.getByText('Not verified: 1 problem', { exact: true }).waitFor();
      expect(await page.getByRole('list', { name: 'Verification problems' }).getByRole('listitem').allInnerTexts()).toEqual([
        'the mission as shown is not the fold of its events: s differs from the replayed state in title',
      ]);
    });
  });

  it('given a mission titled with one long word, then its page fits the laptop width without sideways scrolling', async () => {
    const title = `Room${'1'.repeat(156)}`;
    const created = await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Rates.', priority: 'low', payload: {} }).expect(201);
    await inTabOnFakeClock(
      `missions/${created.body.id}`,
      async () => undefined,
      async (tab) => {
        await tab.getByRole('heading', { level: 1, name: title }).waitFor();
        await tab.getByText(/Hash chain verified/).waitFor();
        // The heading and the title's field did not wrap: the page was twice the window's width, and more.
        expect(await tab.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
      },
    );
  });

  it("given a browser in another time zone, then a mission's times are that zone's and name it", async () => {
    const created = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: `Lobby rates ${Date.now()}`, description: 'Rates.', priority: 'low', payload: {} })
      .expect(201);
    const tab = await context.newPage();
    try {
      // As for staff in India: the time read "6:04:56 PM", an hour nobody reading it elsewhere could place.
      await (await context.newCDPSession(tab)).send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Kolkata' });
      await tab.goto(`${base}/console/`);
      await tab.evaluate(`sessionStorage.setItem('brain.apiKey', '${TEST_KEYS.operator}')`);
      await tab.goto(`${base}/console/#/missions/${created.body.id}`);
      await tab.reload();
      const shown = tab.locator('dt', { hasText: /^Created$/ }).locator('xpath=following-sibling::dd');
      await shown.waitFor();
      // Minutes and seconds as in Kolkata (half an hour off UTC), then the zone's name.
      const inKolkata = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Kolkata', minute: '2-digit', second: '2-digit' }).format(
        new Date(created.body.createdAt),
      );
      expect(await shown.textContent()).toMatch(new RegExp(`:${inKolkata}\\b.*GMT\\+5:30$`));
    } finally {
      await tab.close();
    }
  });

  it('given a tablet width, then the pages fit without sideways scrolling', async () => {
    await page.setViewportSize(TABLET);
    for (const [link, name] of [
      ['Queue', 'queue'],
      ['Missions', 'missions'],
      ['Dead letters', 'dead-letters'],
      ['Agents', 'agents'],
    ]) {
      await open(link, link);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect({ page: link, overflow: overflow <= 0 }).toEqual({ page: link, overflow: true });
      await screenshot(`${name}-tablet`);
    }
    await page.setViewportSize(LAPTOP);
  });

  // A 1024 px window at 200 % zoom: the visually hidden "Actions" header was placed against the
  // page, outside its table's scroll area, and the whole page scrolled sideways.
  it('given 200 % zoom (a 512 px wide viewport), then the Dead letters and Agents pages fit without sideways scrolling', async () => {
    const created = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: `Zoomed ${Date.now()}`, description: 'Rates.', priority: 'low', payload: {} })
      .expect(201);
    await system.waitForStatus(created.body.id, ['dead_lettered']);
    await inTabOnFakeClock(
      'dead-letters',
      (tab) => tab.setViewportSize({ width: 512, height: 400 }),
      async (tab) => {
        for (const [name, table] of [
          ['Dead letters', /dead-lettered missions/],
          ['Agents', /agents/i],
        ] as const) {
          if (name === 'Agents') await tab.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true }).click();
          await tab.getByRole('heading', { level: 1, name }).waitFor();
          await tab.getByRole('table', { name: table }).getByRole('row').nth(1).waitFor();
          const overflow = await tab.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
          expect({ page: name, overflow: overflow <= 0 }).toEqual({ page: name, overflow: true });
        }
      },
    );
  });

  it('given Sign out, then the key is gone from session storage and the sign-in form is back, with the focus on its key field and no page in the address', async () => {
    await signInAt('agents');
    await page.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('brain.apiKey')")).toBeNull();
    // The focus fell to the body, and the address still named the Agents page, which the next key opened.
    await waitFor(async () => (await page.evaluate<string | undefined>('document.activeElement?.id')) === 'api-key', {
      timeoutMs: 5_000,
      what: 'the focus on the API key field',
    });
    expect(new URL(page.url()).hash).toBe('');
  });

  it('given a key the API stops accepting while the console is open, then it goes back to sign-in and stops asking with that key', async () => {
    await page.getByLabel('API key').fill(TEST_KEYS.operator);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await open('Queue', 'Queue');
    // As a key rotated away: the console kept polling and reconnecting with it, and each 401 counted
    // toward AUTH_FAILURES_PER_MINUTE, until every console and CLI at that address got 429s.
    const rejected: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 401) rejected.push(response.url());
    });
    await page.evaluate("sessionStorage.setItem('brain.apiKey', 'rotated-away-key-00000000')");
    await page.getByRole('alert').filter({ hasText: 'no longer accepts this key' }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate("sessionStorage.getItem('brain.apiKey')")).toBeNull();
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    await page.getByLabel('API key').waitFor();
  });

  it('given a reader key, then what a reader may not do is not offered', async () => {
    const created = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: 'Reader view', description: 'Compare.', priority: 'low', payload: {} })
      .expect(201);
    await page.getByLabel('API key').fill(TEST_KEYS.reader);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('reader (reader)').waitFor();
    await page.goto(`${base}/console/#/missions/${created.body.id}`);
    await page.getByRole('heading', { level: 1, name: 'Reader view' }).waitFor();
    await page.getByText(/Hash chain verified/).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel mission' }).count()).toBe(0);
    await open('Agents', 'Agents');
    await page.getByRole('cell', { name: /agent-lena/ }).waitFor();
    expect(await page.getByRole('button', { name: /^(Pause|Resume) / }).count()).toBe(0);
    // Its link led to a page saying a reader cannot use it; the address alone still says so.
    expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Dead letters' }).count()).toBe(0);
    await page.goto(`${base}/console/#/dead-letters`);
    await page.getByText('The dead-letter queue needs an operator key').waitFor();
    expect(await page.getByRole('button', { name: /Requeue/ }).count()).toBe(0);
  });

  // A link followed just after sign-in (as the reader spec does, on a loaded machine): the address
  // changed after the console's first page had read it but before that page listened for changes
  // (its effects run after the browser paints), and the page before stayed up for good under the
  // new address, the linked page's data never asked for.
  it('given the address changed as the console opens after sign-in, before it has painted, then the page the address names shows', async () => {
    const title = `Opened at sign-in ${Date.now()}`;
    const created = await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Rates.', priority: 'low', payload: {} }).expect(201);
    const tab = await context.newPage();
    try {
      await tab.goto(`${base}/console/#/queue`);
      // Called as the console's navigation enters the document, in the task that rendered it: before that render's effects.
      await tab.evaluate(`new MutationObserver((_, observer) => {
        if (!document.querySelector('nav[aria-label="Pages"]')) return;
        observer.disconnect();
        location.hash = '#/missions/${created.body.id}';
      }).observe(document.body, { childList: true, subtree: true })`);
      await tab.getByLabel('API key').fill(TEST_KEYS.reader);
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.getByRole('heading', { level: 1, name: title }).waitFor();
      expect(new URL(tab.url()).hash).toBe(`#/missions/${created.body.id}`);
    } finally {
      await tab.close();
    }
  });

  /** More dead letters than one page of the Dead letters page: `Boiler check 0` … `204`, the newest dead letters; made once, for the tests that need them. */
  let boilerChecks: Promise<void> | undefined;
  const deadLetterBoilerChecks = () =>
    (boilerChecks ??= (async () => {
      const ids: string[] = [];
      for (let i = 0; i < DEAD_LETTERS_LOADED + 5; i += 1) {
        const created = await system.api
          .post('/api/missions')
          .send({ type: 'maintenance', title: `Boiler check ${i}`, description: 'Check the boiler.', priority: 'low', payload: {} })
          .expect(201);
        ids.push(created.body.id);
      }
      for (const id of ids) await system.waitForStatus(id, ['dead_lettered']);
    })());
  /** The Dead letters page at its first page, signed in as the operator, whatever the tests before left. */
  const openDeadLettersAsOperator = async () => {
    await signInAt('');
    await open('Dead letters', 'Dead letters');
  };

  // The page showed the 200 oldest and no more: a longer dead-letter queue could not be reviewed.
  it('given more dead letters than one page, when Load more is pressed, then the next page shows below the first, and Back and a reload keep it', async () => {
    await deadLetterBoilerChecks();
    await openDeadLettersAsOperator();
    const newest = page.getByRole('link', { name: `Boiler check ${DEAD_LETTERS_LOADED + 4}`, exact: true });
    const oldest = page
      .getByRole('table', { name: /dead-lettered missions/ })
      .getByRole('link')
      .first();
    const oldestTitle = await oldest.innerText();
    const total = (await system.api.get('/api/missions/queue/stats').expect(200)).body.deadLettered as number;
    expect(total).toBeGreaterThan(DEAD_LETTERS_LOADED);
    await page.getByRole('table', { name: `the ${DEAD_LETTERS_LOADED} oldest of ${total} are loaded` }).waitFor();
    expect(await newest.count()).toBe(0);
    // The next page asked for by the first one's cursor, not by position.
    const nextPage = page.waitForResponse((response) => /\/api\/dlq\?cursor=[\w-]+&limit=200$/.test(response.url()));
    await page.getByRole('button', { name: 'Load more' }).click();
    await nextPage;
    await newest.waitFor();
    // Below the first page, which stays: still the oldest first.
    expect(await oldest.innerText()).toBe(oldestTitle);
    // Every dead letter shown, on either page: the bulk requeue takes them all, as its button says.
    const rows = await page
      .getByRole('table', { name: /dead-lettered missions/ })
      .getByRole('link')
      .count();
    expect(rows).toBeGreaterThan(DEAD_LETTERS_LOADED);
    expect(await page.getByRole('button', { name: /^Requeue all filtered/ }).innerText()).toBe(`Requeue all filtered (${rows})`);
    const shown = async () => {
      await newest.waitFor();
      expect(await oldest.innerText()).toBe(oldestTitle);
    };
    await newest.click();
    await page.getByRole('heading', { level: 1, name: `Boiler check ${DEAD_LETTERS_LOADED + 4}` }).waitFor();
    await page.goBack();
    await shown();
    expect(page.url()).toMatch(/#\/dead-letters\?cursor=[\w-]+$/);
    await page.reload();
    await shown();
  }, 120_000);

  it('given more dead letters than the page loads, then "Requeue all filtered (N)" requeues those N and no others', async () => {
    await deadLetterBoilerChecks();
    await openDeadLettersAsOperator();
    const button = page.getByRole('button', { name: `Requeue all filtered (${DEAD_LETTERS_LOADED})` });
    await button.waitFor();
    // It said "200 dead-lettered missions": the newer ones, beyond what the page loads, were counted nowhere.
    const total = (await system.api.get('/api/missions/queue/stats').expect(200)).body.deadLettered as number;
    expect(total).toBeGreaterThan(DEAD_LETTERS_LOADED);
    await page.getByRole('table', { name: `the ${DEAD_LETTERS_LOADED} oldest of ${total} are loaded` }).waitFor();
    // It asks first; declined, nothing is sent.
    const requests: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/dlq/requeue')) requests.push(request.method());
    });
    page.removeAllListeners('dialog');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await button.click();
    // Accepted and clicked twice: one bulk requeue (two were sent, and the second's answer said how many it found still dead).
    page.on('dialog', (dialog) => void dialog.accept());
    await button.dblclick();
    // It sent limit 1000: the button said 200, and every dead letter was requeued.
    // The intake requeues them one by one while the pipeline dead-letters them again: on a loaded
    // machine that took longer than Playwright's 30 s once, so the wait has most of the test's budget.
    await page
      .getByRole('status')
      .filter({ hasText: `Requeued ${DEAD_LETTERS_LOADED} missions.` })
      .waitFor({ timeout: 90_000 });
    expect(requests).toEqual(['POST']);
  }, 120_000);

  it(`given more than ${BULK_REQUEUE_MAX} dead letters and a filter matching some past the ${BULK_REQUEUE_MAX} oldest, then the button says it takes those among the ${BULK_REQUEUE_MAX} oldest, and requeues them alone`, async () => {
    const crowded = await startInProcessSystem('e2e-console-dlq-crowded');
    try {
      // No service takes a requeued mission on: it stays queued, so which were requeued is plain to see.
      for (const service of ['orchestrator', 'executor', 'evaluator'] as const) await crowded.stopService(service);
      await crowded.intake.listen(0, '127.0.0.1');
      const origin = `http://127.0.0.1:${(crowded.intake.getHttpServer().address() as AddressInfo).port}`;
      // Ten more than a bulk requeue looks at: a pricing every hundred among the oldest, and the ten past them.
      const inputs = Array.from({ length: BULK_REQUEUE_MAX + 10 }, (_, i) =>
        i % 100 === 50 || i >= BULK_REQUEUE_MAX
          ? aCreateInput({ type: 'pricing', title: `Room rates ${i}` })
          : aCreateInput({ type: 'maintenance', title: `Lift check ${i}` }),
      );
      const ids = await seedDeadLetters(crowded.store, inputs, Date.now() - 3_600_000);
      const pricing = ids.filter((_, i) => inputs[i].type === 'pricing');
      const taken = pricing.filter((id) => ids.indexOf(id) < BULK_REQUEUE_MAX);

      await page.goto(`${origin}/console/`);
      await page.evaluate(`sessionStorage.setItem('brain.apiKey', '${TEST_KEYS.operator}')`);
      await page.goto(`${origin}/console/#/dead-letters`);
      await page.reload();
      // Each Load more reads every page loaded again (the reasons kept with the dead letters, no log
      // read): quick, but a loaded machine (the pipeline of the tests before still at work) is slower.
      const loading = { timeout: 30_000 };
      for (let loaded = DEAD_LETTERS_LOADED; loaded < inputs.length; loaded += DEAD_LETTERS_LOADED) {
        await page
          .getByRole('status')
          .filter({ hasText: `(the ${loaded} oldest of ${inputs.length} are loaded` })
          .waitFor(loading);
        await page.getByRole('button', { name: 'Load more' }).click();
      }
      await page
        .getByRole('status')
        .filter({ hasText: `(all ${inputs.length} are loaded)` })
        .waitFor(loading);
      await page.getByLabel('Type').selectOption('pricing');
      await page
        .getByRole('status')
        .filter({ hasText: `${pricing.length} dead-lettered missions` })
        .waitFor();
      // Every pricing loaded is shown, but the button says, and takes, only those among the oldest.
      const button = page.getByRole('button', { name: `Requeue filtered among the ${BULK_REQUEUE_MAX} oldest (${taken.length})` });
      await button.click();
      await page
        .getByRole('status')
        .filter({ hasText: `Requeued ${taken.length} missions.` })
        .waitFor(loading);
      expect(await crowded.statusCount('queued')).toBe(taken.length);
      for (const id of pricing) expect([id, (await crowded.store.load(id))?.status]).toEqual([id, taken.includes(id) ? 'queued' : 'dead_lettered']);
    } finally {
      // The page's live stream would hold the intake's server open, and its close would wait for it for good.
      await page.goto('about:blank');
      await crowded.close();
    }
    // A system of its own and six pages of dead letters, each read again with the next: ~10 s alone.
  }, 120_000);

  // Each button was disabled while the page it asked for loaded, or went away: the focus fell to the
  // body and the next Tab started at the top; and the new count was only in a caption, never said.
  it('given the keyboard on a paging button, when it is pressed, then the focus stays on it, or goes to the caption when it goes, and the new count is said', async () => {
    await deadLetterBoilerChecks();
    await signInAt('missions?type=maintenance');
    const count = page.getByRole('status').filter({ hasText: /^50 missions on this page, newest first$/ });
    await count.waitFor();
    const older = page.getByRole('button', { name: 'Older' });
    await older.focus();
    const olderPage = page.waitForResponse((response) => /\/api\/missions\?type=maintenance&cursor=[\w-]+&limit=50$/.test(response.url()));
    await page.keyboard.press('Enter');
    await olderPage;
    await page.getByRole('table', { name: /missions on this page/ }).waitFor();
    await focusOn(page, 'BUTTON Older');
    await count.waitFor();
    await page.getByRole('button', { name: 'Newer' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/missions\?type=maintenance$/);
    await page.getByRole('table', { name: /missions on this page/ }).waitFor();
    // Held on the newest page, not disabled: still where the focus is.
    expect(await page.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(true);
    await focusOn(page, 'BUTTON Newer');

    await open('Dead letters', 'Dead letters');
    await page
      .getByRole('status')
      .filter({ hasText: /are loaded: Load more/ })
      .waitFor();
    await page.getByRole('button', { name: 'Load more' }).focus();
    await page.keyboard.press('Enter');
    // All loaded: Load more is gone, and the focus is on what says so.
    const allLoaded = page.getByRole('status').filter({ hasText: /\(all \d+ are loaded\)$/ });
    await allLoaded.waitFor();
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });
    await focusOn(page, `CAPTION ${await allLoaded.textContent()}`);
  }, 120_000);

  // Load more's rescue was disarmed by the first load to settle: one that settled with Load more still
  // there (more had been dead-lettered meanwhile) left a later load that took it away unrescued, and the
  // focus fell to the body. The answer to Load more is made to say there are more, so that load lands
  // first, with the button kept, every time.
  it('given Load more pressed and its page loaded with more still to load, when a later load takes Load more away, then the focus goes to the caption', async () => {
    await deadLetterBoilerChecks();
    // The page's live stream reloads it once it has connected (events may have come between its load
    // and the stream's start). On a loaded machine that reload came after Load more, and read its
    // pages again with nothing more to load: the answer made to say there are more was lost. It is
    // the first page's read sent after the page asked for its stream.
    let streamAsked = false;
    const reloads: Request[] = [];
    const watchReload = (sent: Request) => {
      if (sent.url().includes('/api/stream?') && sent.url().includes('MissionDeadLettered')) streamAsked = true;
      else if (streamAsked && /\/api\/dlq\?limit=/.test(sent.url())) reloads.push(sent);
    };
    page.on('request', watchReload);
    await openDeadLettersAsOperator();
    await page
      .getByRole('status')
      .filter({ hasText: /are loaded: Load more/ })
      .waitFor();
    await waitFor(async () => reloads.length > 0, { timeoutMs: 10_000, what: "the reload at the stream's start" });
    await reloads[0].response();
    page.off('request', watchReload);
    // Nothing of the tests before still on its way through the pipeline: no live reload but the one this test causes.
    await waitFor(
      async () => {
        const { ready, inFlight } = (await system.api.get('/api/missions/queue/stats').expect(200)).body as QueueStats;
        return ready === 0 && inFlight === 0;
      },
      {
        timeoutMs: 60_000,
        what: 'the pipeline to be idle',
      },
    );
    await page.route(
      /\/api\/dlq\?cursor=/,
      async (route) => {
        const response = await route.fetch();
        const answer = (await response.json()) as { nextCursor?: string };
        await route.fulfill({ response, json: { ...answer, nextCursor: answer.nextCursor ?? 'more-dead-lettered-meanwhile' } });
      },
      { times: 1 },
    );
    const loadMore = page.getByRole('button', { name: 'Load more' });
    await loadMore.focus();
    await page.keyboard.press('Enter');
    // Loaded, Load more still there and no longer held: the load that settles first.
    await page
      .getByRole('status')
      .filter({ hasText: /the \d+ oldest( of \d+)? are loaded: Load more/ })
      .filter({ hasNotText: `the ${DEAD_LETTERS_LOADED} oldest` })
      .waitFor();
    await waitFor(async () => (await loadMore.getAttribute('aria-disabled')) === null, { timeoutMs: 5_000, what: 'Load more no longer held' });
    await focusOn(page, 'BUTTON Load more');
    // A new dead letter: its live reload reads the pages again, and finds no more to load.
    await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: `Sauna rates ${Date.now()}`, description: 'Rates.', priority: 'low', payload: {} })
      .expect(201);
    const allLoaded = page.getByRole('status').filter({ hasText: /\(all \d+ are loaded\)$/ });
    await allLoaded.waitFor();
    await loadMore.waitFor({ state: 'detached' });
    await focusOn(page, `CAPTION ${await allLoaded.textContent()}`);
  }, 120_000);

  // On a closed select, each arrow key is a change: the list was read again for every option passed.
  it('given the keyboard on a Missions filter, when its choice is stepped with the arrow keys, then the list is read once, for the choice it rests on, and its count is said', async () => {
    await signInAt('missions');
    await page.getByRole('table', { name: /missions on this page/ }).waitFor();
    const asked: string[] = [];
    const listed = (sent: { url: () => string }) => {
      if (sent.url().includes('/api/missions?status=')) asked.push(sent.url());
    };
    page.on('request', listed);
    const filtered = page.waitForResponse((response) => response.url().includes('/api/missions?status='));
    const status = page.getByLabel('Status');
    await status.focus();
    for (let step = 0; step < 3; step += 1) await page.keyboard.press('ArrowDown');
    const chosen = await status.inputValue();
    const response = await filtered;
    expect(response.url()).toBe(`${base}/api/missions?status=${chosen}&limit=50`);
    const { items } = (await response.json()) as { items: unknown[] };
    await page
      .getByRole('status')
      .filter({ hasText: `${items.length} missions on this page, newest first` })
      .waitFor();
    page.off('request', listed);
    expect(asked).toEqual([response.url()]);
    // Still on the select, for the next step.
    await focusOn(page, 'SELECT Status');
  });

  it('given filters and an older page on the Missions page, when a mission is opened and Back pressed, then both are back, as after a reload', async () => {
    await open('Missions', 'Missions');
    // The boiler checks, 205 of them: five pages.
    const filtered = page.waitForResponse((response) => response.url().endsWith('/api/missions?type=maintenance&priority=low&limit=50'));
    await page.getByLabel('Type').selectOption('maintenance');
    await page.getByLabel('Priority').selectOption('low');
    await filtered;
    const newest = page.getByRole('link', { name: `Boiler check ${DEAD_LETTERS_LOADED + 4}`, exact: true });
    await newest.waitFor();
    await page.getByRole('button', { name: 'Older' }).click();
    await newest.waitFor({ state: 'detached' });
    const title = await openFirstListedMission();
    const shown = async () => {
      await page.getByRole('heading', { level: 1, name: 'Missions' }).waitFor();
      expect(await page.getByLabel('Type').inputValue()).toBe('maintenance');
      expect(await page.getByLabel('Priority').inputValue()).toBe('low');
      expect(await page.getByRole('button', { name: 'Newer' }).isEnabled()).toBe(true);
      await page.getByRole('link', { name: title, exact: true }).waitFor();
      expect(await firstListedMission().innerText()).toBe(title);
    };
    // It came back unfiltered, at the newest missions.
    await page.goBack();
    await shown();
    // The address alone holds them, as a shared link does.
    expect(page.url()).toMatch(/#\/missions\?type=maintenance&priority=low&cursor=[\w-]+$/);
    await page.reload();
    await shown();
    await page.goForward();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
  });

  it('given a filtered Missions page, when a mission is opened and its "← Missions" link followed, then the list is filtered as it was', async () => {
    await open('Missions', 'Missions');
    const filtered = page.waitForResponse((response) => response.url().endsWith('/api/missions?type=maintenance&limit=50'));
    await page.getByLabel('Type').selectOption('maintenance');
    await filtered;
    await openFirstListedMission();
    // It went to the whole list, newest first.
    await page.getByRole('link', { name: '← Missions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Missions' }).waitFor();
    expect(await page.getByLabel('Type').inputValue()).toBe('maintenance');
    expect(page.url()).toMatch(/#\/missions\?type=maintenance$/);
  });

  it('given a filter typed but not yet committed, when live events reload the Missions page, then the typing stays', async () => {
    await open('Missions', 'Missions');
    await page.getByText('Live', { exact: true }).waitFor();
    // Each field in turn: leaving one commits it.
    for (const [label, typed] of [
      ['Search by title', 'Minibar'],
      ['Agent', 'agent-'],
    ]) {
      const field = page.getByLabel(label);
      await field.pressSequentially(typed);
      // A mission created now reaches the page through its live stream: the page renders again.
      const title = `Typed over ${Date.now()}`;
      await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Rates.', priority: 'low', payload: {} }).expect(201);
      await page.getByRole('link', { name: title }).waitFor();
      expect(await field.inputValue()).toBe(typed);
      // Committed, the typing is the filter.
      await field.press('Enter');
      await page.getByRole('link', { name: title }).waitFor({ state: 'detached' });
      await field.fill('');
      await field.press('Enter');
      await page.getByRole('link', { name: title }).waitFor();
    }
  });

  it('given a live stream the intake refuses, then the console asks again less and less often, says when, and goes live once it is let through', async () => {
    // On a fake clock, the waits between attempts pass at once, and in order.
    const tokens: string[] = [];
    await inTabOnFakeClock(
      'queue',
      async (tab) => {
        tab.on('request', (request) => {
          if (request.url().endsWith('/api/stream/tokens')) tokens.push(request.method());
        });
        // As beyond SSE_MAX_CLIENTS_PER_KEY.
        await tab.route('**/api/stream?*', (route) =>
          route.fulfill({ status: 429, contentType: 'application/json', body: JSON.stringify({ statusCode: 429, message: 'too many open streams' }) }),
        );
      },
      async (tab) => {
        await tab.getByRole('heading', { level: 1, name: 'Queue' }).waitFor();
        const badge = tab.getByRole('status').filter({ hasText: /^Reconnecting|^Live$|^Connecting/ });
        // It asked every second, for ever: each attempt a token request, counted against the key's rate limit.
        for (const seconds of [1, 2, 4, 8, 16]) {
          await badge.filter({ hasText: `Reconnecting in ${seconds} s…` }).waitFor();
          // The count is hidden from screen readers, which would read it out every second: they heard "Reconnecting" and no wait.
          expect(await badge.ariaSnapshot()).toBe(`- status: Reconnecting in ${seconds} s`);
          await tab.clock.runFor(seconds * 1_000);
        }
        // At most 30 s apart.
        await badge.filter({ hasText: 'Reconnecting in 30 s…' }).waitFor();
        expect(tokens).toHaveLength(6);
        await tab.unroute('**/api/stream?*');
        await tab.clock.runFor(30_000);
        await badge.filter({ hasText: /^Live$/ }).waitFor();
      },
    );
  });

  it('given reads the intake never answers, then the page says the intake cannot be reached, and loads by itself once it answers, the live badge counting down meanwhile', async () => {
    await inTabOnFakeClock(
      'missions',
      async (tab) => {
        await tab.route('**/api/missions?*', (route) => route.abort('connectionrefused'));
        await tab.route('**/api/stream/tokens', (route) => route.abort('connectionrefused'));
      },
      async (tab) => {
        await tab.getByRole('heading', { level: 1, name: 'Missions' }).waitFor();
        // It said "Failed to fetch", and kept saying it once the intake was back, a Live badge beside it, until a mission event came.
        await tab
          .getByRole('alert')
          .filter({ hasText: /^The intake cannot be reached \(it is stopped, or the network is down\)\.$/ })
          .waitFor();
        const badge = tab.getByRole('status').filter({ hasText: /^Reconnecting|^Live$|^Connecting/ });
        for (const seconds of [1, 2, 4]) {
          await badge.filter({ hasText: `Reconnecting in ${seconds} s…` }).waitFor();
          await tab.clock.runFor(seconds * 1_000);
        }
        // The wait counts down: it stood at 8 s until the attempt.
        await badge.filter({ hasText: 'Reconnecting in 8 s…' }).waitFor();
        await tab.clock.runFor(3_000);
        await badge.filter({ hasText: 'Reconnecting in 5 s…' }).waitFor();
        // The reads answer again, the live stream not yet: the page reads again by itself (5 s after its first failure, 10 after its second).
        await tab.unroute('**/api/missions?*');
        await tab.clock.runFor(5_000);
        await tab.getByRole('table', { name: /missions on this page/ }).waitFor();
        expect(await tab.getByRole('alert').count()).toBe(0);
        await tab.unroute('**/api/stream/tokens');
        await tab.clock.runFor(16_000);
        await badge.filter({ hasText: /^Live$/ }).waitFor();
      },
    );
  });

  it('given a read the intake fails with a 500 (its own failure, say stored guest data altered), then it is not asked again by itself: asking would not mend it, and each would log a stack', async () => {
    let asked = 0;
    await inTabOnFakeClock(
      'missions',
      async (tab) => {
        await tab.route('**/api/missions?*', (route) => {
          asked += 1;
          return route.fulfill({
            status: 500,
            contentType: 'application/json',
            body: JSON.stringify({ statusCode: 500, message: 'internal error', details: [] }),
          });
        });
        // No live stream: its start and its events read the page again, which is no retry.
        await tab.route('**/api/stream/tokens', (route) => route.abort('connectionrefused'));
      },
      async (tab) => {
        await tab.getByRole('alert').filter({ hasText: 'internal error' }).waitFor();
        const first = asked;
        await tab.clock.runFor(120_000);
        expect(asked).toBe(first);
        await tab.unroute('**/api/missions?*');
        await tab.unroute('**/api/stream/tokens');
      },
    );
  });

  it('given a live stream that stops sending, then after three heartbeat intervals the badge leaves "Live" and the console reconnects', async () => {
    await inTabOnFakeClock(
      'queue',
      async () => undefined,
      async (tab) => {
        const badge = tab.getByRole('status').filter({ hasText: /^Reconnecting|^Live$|^Connecting/ });
        await badge.filter({ hasText: /^Live$/ }).waitFor();
        // The server's next ping is 15 s of real time away: on the fake clock, 45 s pass in silence.
        await tab.clock.runFor(3 * 15_000);
        // It said "Live" for ever: EventSource hid the heartbeat, so nothing told a stalled stream from a quiet log.
        await badge.filter({ hasText: 'Reconnecting in 1 s…' }).waitFor({ timeout: 5_000 });
        await tab.clock.runFor(1_000);
        await badge.filter({ hasText: /^Live$/ }).waitFor();
      },
    );
  });

  it('given a search the API stops short of at 5,000 missions with a nextCursor, then the page searches on by itself, saying how far, and shows what it finds; never an empty table', async () => {
    const title = `Needle in the log ${Date.now()}`;
    const created = await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Rates.', priority: 'low', payload: {} }).expect(201);
    const found = (await system.api.get(`/api/missions/${created.body.id}`).expect(200)).body as { id: string };
    // As the API answers a filter no mission among the 5,000 newest matches: an empty page with a cursor, twice, then the match.
    const asked: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/missions?*', async (route) => {
      const url = new URL(route.request().url());
      if (url.searchParams.get('title') !== title) return route.continue();
      const cursor = url.searchParams.get('cursor') ?? 'none';
      asked.push(`${cursor} limit=${url.searchParams.get('limit')}`);
      if (cursor === 'scanned-2') await held;
      const body = cursor === 'scanned-2' ? { items: [found] } : { items: [], nextCursor: cursor === 'none' ? 'scanned-1' : 'scanned-2' };
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) }).catch(() => undefined);
    });
    try {
      await signInAt(`missions?title=${encodeURIComponent(title)}`);
      // It showed "0 missions on this page" and an empty table, Older the only way on.
      await page
        .getByRole('status')
        .filter({ hasText: /^Searching older missions…$/ })
        .waitFor();
      await page.getByText(/\(10,000 scanned\)/).waitFor();
      expect(await page.getByRole('table').count()).toBe(0);
      release();
      await page.getByRole('table', { name: '1 missions on this page, newest first' }).getByRole('link', { name: title }).waitFor();
      expect(await page.getByText(/Searching older missions/).count()).toBe(0);
      // In the order first asked: a live event may read the first page again meanwhile.
      expect([...new Set(asked)].slice(0, 3)).toEqual(['none limit=50', 'scanned-1 limit=50', 'scanned-2 limit=50']);
    } finally {
      release();
      await page.unroute('**/api/missions?*');
    }
  });

  it('given a search that finds nothing for long, when Stop is pressed, then it says how far it searched and offers to search on from there, with no table', async () => {
    const title = `Nowhere to be found ${Date.now()}`;
    await page.route('**/api/missions?*', async (route) => {
      const url = new URL(route.request().url());
      if (url.searchParams.get('title') !== title) return route.continue();
      const at = Number(url.searchParams.get('cursor')?.replace('scanned-', '') ?? '0');
      await new Promise((resolve) => setTimeout(resolve, 150));
      return route
        .fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ items: [], nextCursor: `scanned-${at + 1}` }) })
        .catch(() => undefined);
    });
    try {
      await signInAt(`missions?title=${encodeURIComponent(title)}`);
      await page.getByText(/\([\d,]+ scanned\)/).waitFor();
      await page.getByRole('button', { name: 'Stop' }).click();
      const stopped = page.locator('p.searching').filter({ hasText: /^No match among the [\d,]+ missions searched: the search stopped there\./ });
      await stopped.waitFor();
      expect(await page.getByRole('table').count()).toBe(0);
      const searched = Number(/among the ([\d,]+)/.exec(await stopped.innerText())?.[1].replace(/,/g, ''));
      await page.getByRole('button', { name: 'Search older missions' }).click();
      // From where it stopped: the address names that cursor, and the search goes on.
      await waitFor(async () => new URL(page.url()).hash.includes(`cursor=scanned-${searched / 5_000}`), {
        timeoutMs: 5_000,
        what: 'the cursor where it stopped in the address',
      });
      await page
        .getByRole('status')
        .filter({ hasText: /^Searching older missions…$/ })
        .waitFor();
    } finally {
      await page.unroute('**/api/missions?*');
    }
  });

  it('given list reads slower than the live events that ask for them, then the Missions page has one read in flight at a time, and shows the last change once it is read', async () => {
    await signInAt('missions');
    await page.getByRole('table', { name: /missions on this page/ }).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    let inFlight = 0;
    let most = 0;
    await page.route('**/api/missions?*', async (route) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      const answered = route
        .fetch()
        .then(async (response) => {
          await new Promise((resolve) => setTimeout(resolve, 1_200));
          return response;
        })
        // Counted out before it is answered: the page may start its next read as soon as it has the answer.
        .finally(() => (inFlight -= 1));
      await route.fulfill({ response: await answered }).catch(() => undefined);
    });
    try {
      // Each read started beside the one before (every live event, 500 ms apart), and two tabs on one key were refused over LIST_SCANS_PER_KEY.
      const stamp = Date.now();
      for (let i = 0; i < 5; i += 1) {
        await system.api
          .post('/api/missions')
          .send({ type: 'pricing', title: `Busy night ${stamp} ${i}`, description: 'Rates.', priority: 'low', payload: {} })
          .expect(201);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      await page.getByRole('link', { name: `Busy night ${stamp} 4` }).waitFor({ timeout: 15_000 });
      expect(most).toBe(1);
    } finally {
      await page.unroute('**/api/missions?*');
    }
  });

  it('given list reads refused for other reads of the key in flight (429, Retry-After: 1), then they are read again after a second without an alert, and only refusals that go on are said', async () => {
    let refusals = 0;
    let refusing = true;
    await inTabOnFakeClock(
      'missions',
      async (tab) => {
        await tab.route('**/api/missions?*', (route) => {
          if (!refusing) return route.continue();
          refusals += 1;
          return route.fulfill({
            status: 429,
            headers: { 'Retry-After': '1' },
            contentType: 'application/json',
            body: JSON.stringify({
              statusCode: 429,
              message: 'too many list requests of this API key at once (LIST_SCANS_PER_KEY); retry when one has answered',
            }),
          });
        });
        // No live stream: its start would read the list again, which is no retry.
        await tab.route('**/api/stream/tokens', (route) => route.abort('connectionrefused'));
      },
      async (tab) => {
        await tab.getByRole('heading', { level: 1, name: 'Missions' }).waitFor();
        await waitFor(async () => refusals >= 1, { timeoutMs: 5_000, what: 'the first refusal' });
        // It said "Too many requests: try again in 1 s" at once, and read again only 5 s later.
        for (let second = 0; second < 4; second += 1) {
          const before = refusals;
          await tab.clock.runFor(1_000);
          await waitFor(async () => refusals > before, { timeoutMs: 5_000, what: 'the read again after its Retry-After' });
          expect(await tab.getByRole('alert').count()).toBe(0);
        }
        // Refused for 10 s and more: said.
        await tab.clock.runFor(8_000);
        await tab
          .getByRole('alert')
          .filter({ hasText: /^Too many requests: try again in 1 s/ })
          .waitFor();
        refusing = false;
        await tab.clock.runFor(1_000);
        await tab.getByRole('table', { name: /missions on this page/ }).waitFor();
        expect(await tab.getByRole('alert').count()).toBe(0);
        await tab.unroute('**/api/stream/tokens');
      },
    );
  });

  it('given a reload of the console while the intake cannot reach Redis (503) or cannot be reached, then it keeps the key, says so and checks it again by itself until it opens the page', async () => {
    let answer: 'unavailable' | 'no answer' | 'through' = 'unavailable';
    await inTabOnFakeClock(
      'queue',
      async (tab) => {
        await tab.route('**/api/me', (route) => {
          if (answer === 'through') return route.continue();
          if (answer === 'no answer') return route.abort('connectionrefused');
          return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ statusCode: 503, message: 'Redis is unavailable' }) });
        });
      },
      async (tab) => {
        // It went to the sign-in form ("Cannot check the key: …") and stayed there once Redis was back, the key still in the tab.
        const waiting = tab.getByRole('status').filter({ hasText: /^System unreachable, retrying/ });
        await waiting.waitFor();
        await tab.getByText('Redis is unavailable').waitFor();
        expect(await tab.getByLabel('API key').count()).toBe(0);
        expect(await tab.evaluate("sessionStorage.getItem('brain.apiKey')")).toBe(TEST_KEYS.operator);
        answer = 'no answer';
        await tab.clock.runFor(2_000);
        await tab.getByText(/^The intake cannot be reached/).waitFor();
        await waiting.waitFor();
        answer = 'through';
        await tab.clock.runFor(30_000);
        await tab.getByRole('heading', { level: 1, name: 'Queue' }).waitFor();
        await tab.unroute('**/api/me');
      },
    );
  });

  it('given a mission address that is no mission id, then it says so and asks nothing, no live stream either; an uppercase id opens its mission', async () => {
    const asked: string[] = [];
    await inTabOnFakeClock(
      'missions/not-a-uuid',
      async (tab) => {
        tab.on('request', (sent) => {
          const path = new URL(sent.url()).pathname;
          if (path.startsWith('/api/stream') || path.startsWith('/api/missions')) asked.push(path);
        });
      },
      async (tab) => {
        await tab
          .getByRole('alert')
          .filter({ hasText: /"not-a-uuid" is not a mission id/ })
          .waitFor();
        // It showed the 400, and its badge said "Reconnecting…" for ever, each attempt a stream token refused again.
        await tab.clock.runFor(10_000);
        expect(asked).toEqual([]);
        expect(
          await tab
            .getByRole('status')
            .filter({ hasText: /^Reconnecting|^Connecting/ })
            .count(),
        ).toBe(0);
      },
    );
    const title = `Shouted link ${Date.now()}`;
    const created = await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Rates.', priority: 'low', payload: {} }).expect(201);
    await signInAt(`missions/${(created.body.id as string).toUpperCase()}`);
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('given a Missions address whose time filter is no date and time, then the page says it is not understood, and not applied', async () => {
    await signInAt('missions?createdFrom=yesterday&createdTo=2099-03-01T18:00');
    await page.getByRole('table', { name: /missions on this page/ }).waitFor();
    // It was dropped without a word: the list looked filtered by it.
    const alerts = page.getByRole('alert');
    await alerts.filter({ hasText: /^Created from: the address's createdFrom=yesterday is not a date and time .*not filtered by it\.$/ }).waitFor();
    expect(await alerts.count()).toBe(1);
  });

  describe('against an intake that takes few requests a minute from each key', () => {
    /** RATE_LIMIT_PER_MINUTE: a page's first load takes a few. */
    const LIMIT = 30;
    let limited: InProcessSystem;
    let origin: string;
    beforeAll(async () => {
      limited = await startInProcessSystem('e2e-console-limited', { RATE_LIMIT_PER_MINUTE: String(LIMIT) });
      await limited.intake.listen(0, '127.0.0.1');
      origin = `http://127.0.0.1:${(limited.intake.getHttpServer().address() as AddressInfo).port}`;
    }, 60_000);
    afterAll(async () => {
      await limited?.close();
    });
    /**
     * Spends what is left of the key's minute: the API refuses it with 429 until that minute ends, one
     * that began with the key's first request (each test signs in with a key of its own, so just now).
     */
    const spendBudget = async (key: string) => {
      for (let sent = 0; sent <= LIMIT; sent += 1) {
        const response = await request(limited.intake.getHttpServer()).get('/api/me').set('Authorization', `Bearer ${key}`);
        if (response.status === 429) return;
      }
      throw new Error(`no 429 after ${LIMIT + 1} requests`);
    };

    it('given pages whose first load is refused, then each shows the error alone, and no empty table that says there is nothing', async () => {
      const created = await request(limited.intake.getHttpServer())
        .post('/api/missions')
        .set('Authorization', `Bearer ${TEST_KEYS.submitter}`)
        .send({ type: 'pricing', title: 'Garage rates', description: 'Rates.', priority: 'low', payload: {} })
        .expect(201);
      await inTabOnFakeClock(
        'queue',
        async () => undefined,
        async (tab) => {
          await tab.getByText('Dead-lettered').waitFor();
          await spendBudget(TEST_KEYS.operator);
          for (const name of ['Missions', 'Agents', 'Dead letters']) {
            await tab.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true }).click();
            await tab.getByRole('heading', { level: 1, name }).waitFor();
            await tab.getByRole('alert').waitFor();
            // The 429 stood beside "0 missions on this page", an empty table of agents, "0 dead-lettered missions".
            expect({ page: name, tables: await tab.getByRole('table').count() }).toEqual({ page: name, tables: 0 });
          }
          expect(await tab.getByRole('button', { name: /^Requeue all filtered/ }).count()).toBe(0);
          await tab.goto(`${origin}/console/#/missions/${created.body.id}`);
          // The mission's read and its events' read, each refused.
          await tab.getByRole('alert').nth(1).waitFor();
          expect(await tab.getByRole('table', { name: /Every event of the mission/ }).count()).toBe(0);
          expect(await tab.getByLabel('Version').count()).toBe(0);
        },
        { origin },
      );
    });

    it('given a 429, then the page says when to try again, keeps what it showed, and asks nothing more until then', async () => {
      const stats: string[] = [];
      await inTabOnFakeClock(
        'queue',
        async (tab) => {
          tab.on('request', (sent) => {
            if (new URL(sent.url()).pathname === '/api/missions/queue/stats') stats.push(sent.url());
          });
        },
        async (tab) => {
          let syncs = 0;
          /** The stats requests the page has sent so far: those sent before a request sent now. */
          const statsSent = async () => {
            const marker = `/console/?sync=${(syncs += 1)}`;
            await Promise.all([tab.waitForRequest((sent) => sent.url().endsWith(marker)), tab.evaluate(`void fetch('${marker}')`)]);
            return stats.length;
          };
          await tab.getByText('Dead-lettered').waitFor();
          await spendBudget(TEST_KEYS.reader);
          // The next poll is refused. It said the API's words alone, and polled on every 5 s, each poll refused again.
          await tab.clock.runFor(5_000);
          const refused = tab.getByRole('alert').filter({ hasText: /^Too many requests: try again in \d+ s/ });
          // The queue's read and the chart's, each refused.
          await refused.nth(1).waitFor();
          await tab.getByText('Dead-lettered').waitFor();
          const asked = await statsSent();
          await tab.clock.runFor(20_000);
          expect(await statsSent()).toBe(asked);
          const wait = Number(/in (\d+) s/.exec(await refused.first().innerText())?.[1]);
          await tab.clock.runFor(wait * 1_000);
          await waitFor(async () => stats.length > asked, { timeoutMs: 5_000, what: 'the page to read the queue again after the wait' });
          // A live stream started now waits as long before asking for its token again.
          await tab.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Agents', exact: true }).click();
          await tab.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();
          const reconnecting = tab.getByRole('status').filter({ hasText: /^Reconnecting in \d+ s…/ });
          await reconnecting.waitFor();
          const asks = Number(/in (\d+) s/.exec(await refused.first().innerText())?.[1]);
          const retries = Number(/in (\d+) s/.exec(await reconnecting.innerText())?.[1]);
          expect(Math.abs(retries - asks)).toBeLessThanOrEqual(1);
        },
        { origin, key: TEST_KEYS.reader },
      );
    });
  });
});
