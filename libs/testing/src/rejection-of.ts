/** The error a promise rejects with (a refusal the test expects); fails the test if it resolves, or rejects with another kind than `kind`. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown>;
export async function rejectionOf<E extends Error>(promise: Promise<unknown>, kind: abstract new (...args: never[]) => E): Promise<E>;
export async function rejectionOf(promise: Promise<unknown>, kind?: abstract new (...args: never[]) => Error): Promise<unknown> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
  if (kind && !(error instanceof kind)) throw new Error(`expected a ${kind.name}, got ${String(error)}`);
  return error;
}
