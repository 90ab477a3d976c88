import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TargetUrlPolicy } from '@app/webhooks';

const README = readFileSync(join(__dirname, '../../README.md'), 'utf8');

describe("README's webhook example", () => {
  const section = README.slice(README.indexOf('\n## Webhooks\n'), README.indexOf('\n## ', README.indexOf('\n## Webhooks\n') + 1));

  it('given the example tried on one machine, then the README says which WEBHOOK_ALLOWED_HOSTS lets its loopback receiver in, and that list does', async () => {
    const allowed = /`WEBHOOK_ALLOWED_HOSTS=(\S+) npm start`/.exec(section)?.[1];
    const url = /subscribe `"url": "(http:\/\/[^"]+)"`/.exec(section)?.[1];
    expect({ allowed, url }).toEqual({ allowed: expect.any(String), url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });

    // Without the list the loopback receiver is refused, as the 422 the README quotes for the example host.
    expect(await new TargetUrlPolicy('').check(url ?? '')).toMatchObject({ ok: false });
    expect(await new TargetUrlPolicy(allowed ?? '').check(url ?? '')).toMatchObject({ ok: true });
  });

  it('given the advice on repeats, then a receiver records a webhook-id only once it answered 2xx, and the verifying example records none before', () => {
    const example = /\*\*Verifying a delivery\*\*[^]*?```ts\n([^]*?)```/.exec(section)?.[1] ?? '';
    expect(example).toContain('export function verifyWebhook');
    // An id recorded before the answer would make the retry, or the operator's redelivery (same id), of a delivery refused a repeat.
    expect(example).not.toMatch(/\.(add|set|push)\(\s*id\b|seen/);
    expect(section).toMatch(/keep the\s+`webhook-id`s of the deliveries you acknowledged[^.]*recording an id\s+only once you have answered it 2xx/);
  });
});
