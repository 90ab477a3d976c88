import { Controller, Get, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiClient, apiClientOf, AuthenticatedRequest } from '../auth/api-client';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { CallerView } from './console-views';

@ApiTags('console')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/me')
export class CallerController {
  @Get()
  @ApiOperation({
    summary: 'Who this API key is',
    description: "Needs role **reader** (any API key but a `client` key). The key's name and role, so a client (the console) offers only what the role may do.",
  })
  @ApiOkResponse({ type: CallerView, description: 'The caller.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'reader' })
  me(@Req() request: AuthenticatedRequest): ApiClient {
    const client = apiClientOf(request);
    // ApiKeyGuard runs before every /api handler and attaches the caller or refuses the request.
    if (!client) throw new Error('no API client on an /api request: ApiKeyGuard did not run');
    return { name: client.name, role: client.role };
  }
}
