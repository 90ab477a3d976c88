import { TargetUrlPolicy } from './target-url-policy';
import { WebhookSender } from './webhook-sender';

const webhook = { id: 'msg_1', url: 'https://hooks.example.com/in', body: '{}', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] };

describe('WebhookSender before it connects', () => {
  it("given a host the resolver cannot answer for now, then the attempt is retryable, not dead: a resolver's hiccup is no refusal", async () => {
    const sender = new WebhookSender(
      new TargetUrlPolicy('', false, async () => {
        throw new Error('getaddrinfo EAI_AGAIN hooks.example.com');
      }),
      1_000,
    );
    // It used to be "refused" and not retryable: every delivery due during the hiccup went dead at once.
    expect(await sender.send(webhook)).toEqual({
      error: 'url host hooks.example.com does not resolve (getaddrinfo EAI_AGAIN hooks.example.com)',
      retryable: true,
    });
  });

  it('given a host that resolves to a private address, then the attempt is refused for good', async () => {
    const sender = new WebhookSender(new TargetUrlPolicy('', false, async () => ['10.1.2.3']), 1_000);
    expect(await sender.send(webhook)).toMatchObject({
      error: expect.stringMatching(/^refused: url host hooks.example.com resolves to 10.1.2.3/),
      retryable: false,
    });
  });
});
