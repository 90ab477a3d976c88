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
});
