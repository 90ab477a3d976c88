import { Response } from 'supertest';

/** Checks a 405 for a route asked for under `method`: `Allow` lists `allow`, and so does the error body, which quotes no path. */
export function expectWrongMethod(response: Response, method: string, allow: string): void {
  expect(response.status).toBe(405);
  expect(response.headers.allow).toBe(allow);
  expect(response.body).toEqual({
    statusCode: 405,
    error: 'Method Not Allowed',
    message: `${method.toUpperCase()} is not a method of this route; it takes ${allow}`,
    details: [],
  });
}
