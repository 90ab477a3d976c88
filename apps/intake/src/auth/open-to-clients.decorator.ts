import { SetMetadata } from '@nestjs/common';

export const OPEN_TO_CLIENTS = 'brain:openToClients';

/**
 * A `client` key may call this handler, whatever role it needs of the others (ApiKeyGuard). Only
 * for a handler that shows or changes nothing but the caller's own missions (seesMission), and
 * answers another's as it answers an unknown id: a client must not learn that it exists.
 */
export const OpenToClients = (): MethodDecorator => SetMetadata(OPEN_TO_CLIENTS, true);
