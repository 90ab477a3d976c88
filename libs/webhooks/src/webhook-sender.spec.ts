import { once } from 'node:events';
import { AddressInfo, createServer, Socket } from 'node:net';
import { WebhookReceiver } from '@app/testing';
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

  it('given a host that resolves to a private address, then the attempt is refused for good, and said not sent', async () => {
    const sender = new WebhookSender(new TargetUrlPolicy('', false, async () => ['10.1.2.3']), 1_000);
    expect(await sender.send(webhook)).toMatchObject({
      error: expect.stringMatching(/^refused: url host hooks.example.com resolves to 10.1.2.3/),
      retryable: false,
      notSent: true,
    });
  });

  it('given a host that resolves slower than the attempt may take, then the attempt ends within its time, retryable: the claim does not lapse while it runs', async () => {
    let answer: (addresses: string[]) => void = () => undefined;
    const resolving = new Promise<string[]>((resolve) => (answer = resolve));
    const timeoutMs = 150;
    const sender = new WebhookSender(new TargetUrlPolicy('hooks.example.com', true, () => resolving), timeoutMs);

    const startedAt = performance.now();
    const result = await sender.send(webhook);
    const tookMs = performance.now() - startedAt;
    answer(['127.0.0.1']);

    // It waited up to 3 s for DNS and then had timeoutMs more for the request, while its claim lapses after 2 × timeoutMs.
    expect(result).toEqual({ error: `url host hooks.example.com does not resolve (no answer for hooks.example.com within ${timeoutMs} ms)`, retryable: true });
    expect(tookMs).toBeLessThan(2 * timeoutMs);
  });
});

describe('WebhookSender against a receiver', () => {
  it('given a signal that aborts while the host resolves, then the attempt is aborted before sending: no connection is made, and it is no failed request', async () => {
    const sockets = new Set<Socket>();
    const receiver = createServer((socket) => sockets.add(socket));
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    try {
      const { port } = receiver.address() as AddressInfo;
      let asked: () => void = () => undefined;
      const resolving = new Promise<void>((resolve) => (asked = resolve));
      let answer: (addresses: string[]) => void = () => undefined;
      const answered = new Promise<string[]>((resolve) => (answer = resolve));
      const resolveHost = () => {
        asked();
        return answered;
      };
      const sender = new WebhookSender(new TargetUrlPolicy('127.0.0.1', false, resolveHost), 2_000);
      const stop = new AbortController();

      const sending = sender.send({ ...webhook, url: `http://hooks.example.test:${port}/in` }, stop.signal);
      await resolving;
      stop.abort();
      answer(['127.0.0.1']);

      // It was a retryable error, as of a request the receiver may have got, and the attempt counted.
      expect(await sending).toEqual({ error: 'aborted before the request was sent', aborted: true });
      expect(sockets.size).toBe(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      receiver.close();
    }
  });

  it('given an https receiver whose TLS handshake has not ended, when the signal aborts, then the attempt is aborted before sending: no byte of the request can have left', async () => {
    // A TCP server that takes the connection and never answers the handshake.
    const sockets = new Set<Socket>();
    const received: Buffer[] = [];
    const receiver = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk: Buffer) => received.push(chunk));
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    try {
      const { port } = receiver.address() as AddressInfo;
      const stop = new AbortController();
      // Aborted once the handshake's first message (the ClientHello) has arrived: TCP is connected.
      receiver.once('connection', (socket: Socket) => socket.once('data', () => stop.abort()));
      const sender = new WebhookSender(new TargetUrlPolicy('127.0.0.1'), 2_000);
      // It was a retryable error, as of a request the receiver may have got: TCP's connect counted as sent.
      expect(await sender.send({ ...webhook, url: `https://127.0.0.1:${port}/in` }, stop.signal)).toEqual({
        error: 'aborted before the request was sent',
        aborted: true,
      });
      // The handshake's opening record (content type 22), and nothing of HTTP.
      expect(received.length).toBeGreaterThan(0);
      expect(received[0][0]).toBe(22);
      expect(Buffer.concat(received).includes('POST')).toBe(false);
    } finally {
      for (const socket of sockets) socket.destroy();
      receiver.close();
    }
  });

  it('given a receiver that has answered but not finished its body, when the signal aborts, then the attempt ends with its status: the answer stands', async () => {
    const receiver = await WebhookReceiver.start();
    try {
      receiver.holdsBodyOpen = true;
      const stop = new AbortController();
      void receiver.answerBegun().then(() => stop.abort());
      const sender = new WebhookSender(new TargetUrlPolicy('127.0.0.1'), 2_000);
      // It ended with the abort's error, as a request cut short before any answer.
      expect(await sender.send({ ...webhook, url: receiver.url }, stop.signal)).toEqual({ status: 200 });
    } finally {
      await receiver.close();
    }
  });

  it('given a receiver that answers 101 Switching Protocols, then the attempt ends with that status, not pending for ever', async () => {
    const sockets = new Set<Socket>();
    const receiver = createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
      socket.on('error', () => undefined);
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    try {
      const { port } = receiver.address() as AddressInfo;
      const sender = new WebhookSender(new TargetUrlPolicy('127.0.0.1'), 2_000);
      // It never settled: each such attempt held one of the dispatcher's 16 slots for good, and after 16 no webhook went out.
      const result = await Promise.race([
        sender.send({ ...webhook, url: `http://127.0.0.1:${port}/in` }),
        new Promise((resolve) => setTimeout(() => resolve('still pending after 5 s'), 5_000).unref()),
      ]);
      expect(result).toEqual({ status: 101 });
    } finally {
      for (const socket of sockets) socket.destroy();
      receiver.close();
    }
  });
});
