import { SetMetadata } from '@nestjs/common';
import { Role } from './api-key';

export const REQUIRED_ROLE = 'brain:requiredRole';

/**
 * The least role that may call a handler (or every handler of a controller). Without it,
 * ApiKeyGuard's default applies: GET/HEAD need `reader`, anything else `operator`.
 */
export const RequiresRole = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLE, role);
