import { Request } from 'express';
import { Role } from './api-key';

/** Who made a request: what logging and rate limiting may know about a key, never its secret. */
export interface ApiClient {
  name: string;
  role: Role;
}

/** Set by ApiKeyGuard on every authenticated `/api` request. */
export type AuthenticatedRequest = Request & { apiClient?: ApiClient };

export function apiClientOf(request: object): ApiClient | undefined {
  const client: unknown = (request as { apiClient?: unknown }).apiClient;
  if (typeof client !== 'object' || client === null) return undefined;
  const { name, role } = client as Record<string, unknown>;
  return typeof name === 'string' && typeof role === 'string' ? (client as ApiClient) : undefined;
}
