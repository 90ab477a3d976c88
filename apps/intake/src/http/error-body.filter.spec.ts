import { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import express from 'express';
import { VersionConflictError } from '@app/event-store';
import { WrongMasterKeyError } from '@app/guest-data';
import { rejectForbiddenKeys } from '@app/mission';
import { writeErrorBody } from './error-body.filter';

describe('error bodies (a real HTTP server on loopback)', () => {
  it('given a mission that kept changing through every retry, when the request fails with a version conflict, then it is a 409, not a 500', async () => {
    const app = express();
    app.post('/api/missions/:id/cancel', () => {
      throw new VersionConflictError('m-1', 3, 5);
    });
    app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => writeErrorBody(response, error));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/api/missions/m-1/cancel`, { method: 'POST' });
      expect(response.status).toBe(409);
      expect(await response.json()).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: 'mission m-1: expected version 3, log is at 5; it is changing, try again',
        details: [],
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("given a malformed JSON body holding a guest's data, when the request fails to parse, then the 400 quotes nothing of the body", async () => {
    const app = express();
    app.post('/api/missions', express.json(), (_request, response) => response.status(201).end());
    app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => writeErrorBody(response, error));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/api/missions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: 'Ada Lovelace <ada@example.com> wants a late check-out',
      });
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(text).not.toMatch(/Ada|Lovelace|example/);
      expect(JSON.parse(text)).toEqual({ statusCode: 400, error: 'Bad Request', message: 'the request body is not valid JSON', details: [] });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('given a JSON body with a prototype-reaching key, when the parser refuses it, then the 400 names the key, not "not valid JSON"', async () => {
    const app = express();
    app.post('/api/missions', express.json({ reviver: rejectForbiddenKeys }), (_request, response) => response.status(201).end());
    app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => writeErrorBody(response, error));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const response = await fetch(`http://127.0.0.1:${port}/api/missions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: `{"payload":{"guest":"Ada Lovelace","${key}":{"isAdmin":true}}}`,
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ statusCode: 400, error: 'Bad Request', message: `key "${key}" is not allowed in JSON bodies`, details: [] });
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('given requests that need a master key the service lacks, then each is a 503 naming the key ids, and the log has one line for them, no stack', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const app = express();
    app.get('/api/subjects/:subjectId', (request) => {
      throw new WrongMasterKeyError(String(request.params.subjectId), 'mk-18cc0d2f4a9b3e71', ['mk-24450b6c1d7e9f30']);
    });
    app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => writeErrorBody(response, error));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (const subject of ['guest:4711', 'guest:4712']) {
        const response = await fetch(`http://127.0.0.1:${port}/api/subjects/${subject}`);
        expect(response.status).toBe(503);
        const body = (await response.json()) as { message: string };
        expect(body.message).toMatch(/master key mk-18cc0d2f4a9b3e71, which this service is not configured with \(configured: mk-24450b6c1d7e9f30\)/);
        expect(body.message).not.toContain(subject);
      }
      expect(logged).toHaveBeenCalledTimes(1);
      expect(logged.mock.calls[0][0]).toMatch(/^guest data cannot be read: .*mk-18cc0d2f4a9b3e71.* \(logged once; /);
      expect(logged.mock.calls[0][0]).not.toMatch(/\n\s+at /);
    } finally {
      logged.mockRestore();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
