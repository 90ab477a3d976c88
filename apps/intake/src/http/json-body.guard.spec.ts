import { AddressInfo } from 'node:net';
import { ExecutionContext, HttpException } from '@nestjs/common';
import express, { Request, Response } from 'express';
import { Environment } from '@app/config';
import { MAX_BODY_DEPTH } from '@app/mission';
import { JsonBodyGuard } from './json-body.guard';
import * as requestBody from './request-body';

/** A body nested `levels` deep: `{"a":{"a":…{}}}`. */
const nestedText = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

/** The guard over a real Express request on loopback: the status it answers (200 when it lets the request through) and its message. */
async function answerFor(body: Buffer, contentType: string, limitBytes = 1_000_000): Promise<{ status: number; message: string }> {
  const guard = new JsonBodyGuard({ BODY_LIMIT_BYTES: limitBytes } as Environment);
  const app = express();
  app.post('/', (request: Request, response: Response) => {
    const context = { getType: () => 'http', switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }) } as unknown as ExecutionContext;
    guard.canActivate(context).then(
      () => response.status(200).end(),
      (error: unknown) => response.status(error instanceof HttpException ? error.getStatus() : 500).end(error instanceof Error ? error.message : ''),
    );
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const reply = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': contentType }, body: body });
    return { status: reply.status, message: await reply.text() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** UTF-32LE bytes of ASCII text: a charset body-parser reads and TextDecoder cannot. */
const utf32le = (text: string) => Buffer.concat([...text].map((char) => Buffer.from([char.charCodeAt(0), 0, 0, 0])));

describe('JsonBodyGuard', () => {
  afterEach(() => jest.restoreAllMocks());

  it('given a UTF-8 body, when its depth is told from its text, then the parsed body is not walked again', async () => {
    const walk = jest.spyOn(requestBody, 'nestsDeeperThan');
    expect((await answerFor(Buffer.from(nestedText(MAX_BODY_DEPTH)), 'application/json')).status).toBe(200);
    expect((await answerFor(Buffer.from(nestedText(MAX_BODY_DEPTH + 1)), 'application/json')).status).toBe(400);
    expect(walk).not.toHaveBeenCalled();
  });

  it('given a charset Node cannot decode, when the body nests too deep, then the parsed body is walked and refused', async () => {
    const walk = jest.spyOn(requestBody, 'nestsDeeperThan');
    expect((await answerFor(utf32le(nestedText(MAX_BODY_DEPTH)), 'application/json; charset=utf-32le')).status).toBe(200);
    expect((await answerFor(utf32le(nestedText(MAX_BODY_DEPTH + 1)), 'application/json; charset=utf-32le')).status).toBe(400);
    expect(walk).toHaveBeenCalledTimes(2);
  });

  // It read "request entity too large": neither the client nor the operator learnt the limit.
  it('given a body over BODY_LIMIT_BYTES, then the 413 names the variable and the limit in bytes', async () => {
    expect(await answerFor(Buffer.from(JSON.stringify({ title: 'x'.repeat(5_000) })), 'application/json', 4_096)).toEqual({
      status: 413,
      message: 'the request body is over BODY_LIMIT_BYTES (4096 bytes)',
    });
  });

  // body-parser decoded them with U+FFFD: the title "x\xff\xfey" was stored as "x\uFFFD\uFFFDy".
  it('given a body whose bytes are not valid in its charset, then it is a 400 saying so; U+FFFD sent as UTF-8 passes', async () => {
    const body = (hex: string) => Buffer.concat([Buffer.from('{"title":"x'), Buffer.from(hex, 'hex'), Buffer.from('y"}')]);
    // Invalid bytes, an overlong "/", a surrogate encoded as UTF-8.
    for (const hex of ['fffe', 'c0af', 'eda080']) {
      expect(await answerFor(body(hex), 'application/json')).toEqual({ status: 400, message: 'the request body is not valid UTF-8' });
    }
    expect((await answerFor(body('efbfbd'), 'application/json')).status).toBe(200);
    // A lone surrogate in UTF-16.
    expect(await answerFor(Buffer.from('7b00 00d8 7d00'.replace(/ /g, ''), 'hex'), 'application/json; charset=utf-16le')).toEqual({
      status: 400,
      message: 'the request body is not valid utf-16le',
    });
  });
});
