import { AddressInfo } from 'node:net';
import express from 'express';
import { VersionConflictError } from '@app/event-store';
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
});
