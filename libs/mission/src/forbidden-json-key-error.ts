/**
 * Thrown by rejectForbiddenKeys while a JSON body is parsed, for a key that can reach an object's
 * prototype. body-parser reports whatever a parse throws as `entity.parse.failed`, which the HTTP
 * error filter words as "not valid JSON" (its own messages quote the body); this class tells the
 * refusal apart, and its message names only the key, one of FORBIDDEN_KEYS, so it can be given to
 * the client. body-parser deletes every own property of the error but `message` and `stack`, so
 * nothing else is kept on it.
 */
export class ForbiddenJsonKeyError extends Error {
  constructor(key: string) {
    super(`key "${key}" is not allowed in JSON bodies`);
  }
}
