import request from 'supertest';

/** Generous: an answer that needs no Redis comes within about a second; a slow machine gets the rest. */
export const ANSWER_WITHIN_MS = 5_000;

/** The response, failing the test unless it came within ANSWER_WITHIN_MS (a hang shows as the request's own timeout). */
export async function promptly(call: request.Test): Promise<request.Response> {
  const started = Date.now();
  const response = await call.timeout(ANSWER_WITHIN_MS * 4);
  expect(Date.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
  return response;
}
