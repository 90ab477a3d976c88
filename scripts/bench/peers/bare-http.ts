/**
 * The HTTP peer, forked by the bench from dist/scripts/bench/peers: bare `node:http`, `JSON.parse`
 * of the body and one `XADD`, answering 201 with the entry id — the upper limit for an HTTP
 * create on this machine. Environment: REDIS_URL, PEER_STREAM. Sends `{ port }` once it listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const stream = process.env.PEER_STREAM ?? 'peer:http';
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      JSON.parse(body);
    } catch {
      response.writeHead(400).end();
      return;
    }
    redis.xadd(stream, '*', 'm', body).then(
      (id) => response.writeHead(201, { 'content-type': 'application/json' }).end(`{"id":"${id}"}`),
      () => response.writeHead(503).end(),
    );
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));

const stop = () => server.close(() => void redis.quit().finally(() => process.exit(0)));
process.on('message', (message) => message === 'stop' && stop());
process.on('disconnect', stop);
