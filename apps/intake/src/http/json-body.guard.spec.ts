import { AddressInfo } from 'node:net';
import { ExecutionContext, HttpException } from '@nestjs/common';
import express, { Request, Response } from 'express';
import { Environment } from '@app/config';
import { JsonBodyGuard } from './json-body.guard';
import * as requestBody from './request-body';

/** A body nested `levels` deep: `{"a":{"a":…{}}}`. */
const nestedText = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

/** The guard over a real Express request on loopback: the status it answers (200 when it lets the request through). */
async function statusFor(body: Buffer, contentType: string): Promise<number> {
  const guard = new JsonBodyGuard({ BODY_LIMIT_BYTES: 1_000_000 } as Environment);
  const app = express();
  app.post('/', (request: Request, response: Response) => {
    const context = { getType: () => 'http', switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }) } as unknown as ExecutionContext;
    guard.canActivate(context).then(
      () => response.status(200).end(),
      (error: unknown) => response.status(error instanceof HttpException ? error.getStatus() : 500).end(),
    );
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const reply = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': contentType }, body: body });
    return reply.status;
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
    expect(await statusFor(Buffer.from(nestedText(requestBody.MAX_BODY_DEPTH)), 'application/json')).toBe(200);
    expect(await statusFor(Buffer.from(nestedText(requestBody.MAX_BODY_DEPTH + 1)), 'application/json')).toBe(400);
    expect(walk).not.toHaveBeenCalled();
  });

  it('given a charset Node cannot decode, when the body nests too deep, then the parsed body is walked and refused', async () => {
    const walk = jest.spyOn(requestBody, 'nestsDeeperThan');
    expect(await statusFor(utf32le(nestedText(requestBody.MAX_BODY_DEPTH)), 'application/json; charset=utf-32le')).toBe(200);
    expect(await statusFor(utf32le(nestedText(requestBody.MAX_BODY_DEPTH + 1)), 'application/json; charset=utf-32le')).toBe(400);
    expect(walk).toHaveBeenCalledTimes(2);
  });
});
