import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  NotFoundException,
  Param,
  Post,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import {
  DeliveryCursorMismatchError,
  DeliveryNotFoundError,
  DeliveryPage,
  DeliveryPendingError,
  MAX_WEBHOOK_SECRETS,
  TargetUrlPolicy,
  TooManyWebhookSecretsError,
  WEBHOOK_SETTINGS,
  WebhookDelivery,
  WebhookNotFoundError,
  WebhookOutbox,
  WebhookSettings,
  WebhookSubscription,
  WebhookSubscriptions,
  WebhookVersionConflictError,
} from '@app/webhooks';
import { RequiresRole } from '../auth';
import { ApiCaller } from '../auth/api-caller.decorator';
import { ApiErrorResponses, ErrorResponsesOptions, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { ApiIdParam, badIdDescription, IdPipe } from '../http/id.pipe';
import { QueryDto } from '../http/query-dto.decorator';
import { CreatedWebhookView, DeliveryPageView, WebhookDeliveryView, WebhookSubscriptionView } from './webhook-views';
import { CreateWebhookBody, ListDeliveriesQuery } from './webhook.bodies';

/** A subscription with its secret: what creating one or rotating its secret answers, once. */
export type CreatedWebhookBody = WebhookSubscription & { secret: string };

const webhookId = new IdPipe('webhook');
const deliveryId = new IdPipe('delivery');
const NOT_FOUND = 'No webhook subscription has this id.';
/** The errors of a change to one subscription (an event appended at its version). */
const CHANGE_ERRORS: ErrorResponsesOptions = {
  role: 'operator',
  notFound: NOT_FOUND,
  id: 'webhook',
  conflict: 'The subscription changed at the same time.',
  conflictExample: 'webhook subscription wh_5f0c2a9e41b7d3c86e19a0f4 was changed concurrently; reload and retry',
};

@ApiTags('webhooks')
@ApiBearerAuth()
@ApiSecurity('api-key')
@RequiresRole('operator')
@Controller('api/webhooks')
export class WebhooksController {
  constructor(
    private readonly subscriptions: WebhookSubscriptions,
    private readonly outbox: WebhookOutbox,
    private readonly policy: TargetUrlPolicy,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Subscribe to mission events',
    description:
      'Needs role **operator**. Appends a WebhookSubscribed event. Deliveries follow the Standard Webhooks specification: ' +
      'a POST with `webhook-id`, `webhook-timestamp` and `webhook-signature` and the body `{type, timestamp, data}`. ' +
      'The answer holds the signing secret (`whsec_…`); it is shown only here.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookView, description: 'The subscription and its secret.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    jsonBody: true,
    invalidField: { field: 'eventTypes', problem: 'each value in eventTypes must be one of the following values: MissionCreated, …, mission.finished' },
    unprocessable: 'The URL resolves to a private, loopback or otherwise non-public address that WEBHOOK_ALLOWED_HOSTS does not list, or does not resolve.',
    unprocessableExample: 'url host localhost resolves to 127.0.0.1 (loopback), which WEBHOOK_ALLOWED_HOSTS does not list',
  })
  async create(@Body() body: CreateWebhookBody, @ApiCaller() caller: string): Promise<CreatedWebhookBody> {
    const target = await this.policy.check(body.url);
    if (!target.ok) throw new UnprocessableEntityException(target.problem);
    const { subscription, secret } = await this.subscriptions.create(
      // As URL parsing reads it, the way it was checked and will be called: `http://a\@b/` is host a.
      { url: target.url.href, eventTypes: body.eventTypes, description: body.description ?? '' },
      caller,
    );
    return { ...subscription, secret };
  }

  @Get()
  @ApiOperation({ summary: 'List webhook subscriptions', description: 'Needs role **operator**. Every subscription, oldest first, without secrets.' })
  @ApiOkResponse({ type: [WebhookSubscriptionView], description: 'The subscriptions.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'operator' })
  list(): Promise<WebhookSubscription[]> {
    return this.subscriptions.list();
  }

  @Get(':id')
  @ApiIdParam('webhook')
  @ApiOperation({
    summary: 'Get a webhook subscription',
    description: 'Needs role **operator**. The subscription, its status and why it is disabled, without its secret.',
  })
  @ApiOkResponse({ type: WebhookSubscriptionView, description: 'The subscription.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'operator', notFound: NOT_FOUND, id: 'webhook' })
  async get(@Param('id', webhookId) id: string): Promise<WebhookSubscription> {
    return this.guard(() => this.subscriptions.require(id));
  }

  @Delete(':id')
  @ApiIdParam('webhook')
  @ApiOperation({
    summary: 'Delete a webhook subscription',
    description:
      'Needs role **operator**. Appends a WebhookDeleted event; its secrets and dead deliveries are deleted, deliveries not yet made are dropped, and so is one in flight as it ends. ' +
      'A DELETE of a subscription deleted already is a 404 that finishes that cleanup, should a failure have cut it short.',
  })
  @ApiOkResponse({ type: WebhookSubscriptionView, description: 'The subscription as it was before it was deleted.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ ...CHANGE_ERRORS, noBody: true })
  async delete(@Param('id', webhookId) id: string, @ApiCaller() caller: string): Promise<WebhookSubscription> {
    const deleted = await this.guard(() => this.subscriptions.delete(id, caller)).catch(async (error: unknown) => {
      // Gone already: the cleanup after its delete may have been cut short (a 500, or a 503 when Redis was lost), and repeating
      // the request finishes it. Deleting what an id never had changes nothing.
      if (error instanceof NotFoundException) await this.outbox.forget(id);
      throw error;
    });
    await this.outbox.forget(id);
    return deleted;
  }

  @Post(':id/rotate-secret')
  @HttpCode(HttpStatus.OK)
  @ApiIdParam('webhook')
  @ApiOperation({
    summary: "Rotate a subscription's signing secret",
    description:
      'Needs role **operator**. Appends a WebhookSecretRotated event. The new secret signs from now on; the previous one keeps signing beside it ' +
      'for WEBHOOK_SECRET_OVERLAP_SECONDS (one signature per secret in `webhook-signature`), so the receiver can switch without refusing a delivery, ' +
      'and an earlier one whose overlap has not ended (a rotation repeated) keeps signing until its own time: `previousSecretsUntil` lists them. ' +
      `At most ${MAX_WEBHOOK_SECRETS} secrets sign at once; a rotation past that is a 409 naming when the first overlap ends. ` +
      'The answer holds the new secret; it is shown only here.',
  })
  @ApiOkResponse({ type: CreatedWebhookView, description: 'The subscription and its new secret.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    ...CHANGE_ERRORS,
    conflict: `The subscription changed at the same time, or ${MAX_WEBHOOK_SECRETS} secrets sign already (rotate again once the first overlap ends).`,
    noBody: true,
  })
  async rotateSecret(@Param('id', webhookId) id: string, @ApiCaller() caller: string): Promise<CreatedWebhookBody> {
    const { subscription, secret } = await this.guard(() => this.subscriptions.rotateSecret(id, this.settings.secretOverlapMs, caller));
    return { ...subscription, secret };
  }

  @Post(':id/enable')
  @HttpCode(HttpStatus.OK)
  @ApiIdParam('webhook')
  @ApiOperation({
    summary: 'Enable a disabled subscription',
    description:
      'Needs role **operator**. Appends a WebhookEnabled event; new events are delivered again. Missed ones are listed as dead and can be redelivered.',
  })
  @ApiOkResponse({ type: WebhookSubscriptionView, description: 'The subscription, active.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ ...CHANGE_ERRORS, noBody: true })
  async enable(@Param('id', webhookId) id: string, @ApiCaller() caller: string): Promise<WebhookSubscription> {
    return this.guard(() => this.subscriptions.enable(id, caller));
  }

  @Get(':id/deliveries')
  @ApiIdParam('webhook')
  @ApiOperation({
    summary: "A subscription's deliveries",
    description:
      'Needs role **operator**. Deliveries newest first with their status (pending, delivered, dead), attempts and the last response code; ' +
      '`status=dead` lists the dead ones, by when they died. Delivered ones are kept WEBHOOK_DELIVERY_RETENTION_SECONDS, dead ones WEBHOOK_DEAD_RETENTION_SECONDS. ' +
      'A page reads at most 5,000 entries of the list: with a `status` few have, it may come back short, even empty, with a `nextCursor` to go on from.',
  })
  @ApiOkResponse({ type: DeliveryPageView, description: 'A page of deliveries.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    notFound: NOT_FOUND,
    id: 'webhook',
    badRequest: 'A query parameter fails validation, or `cursor` is one of another subscription or status (start again without a cursor).',
    invalidField: { field: 'status', problem: 'status must be one of the following values: pending, delivered, dead' },
  })
  async deliveries(@Param('id', webhookId) id: string, @QueryDto() query: ListDeliveriesQuery): Promise<DeliveryPage> {
    await this.guard(() => this.subscriptions.require(id));
    return this.guard(() => this.outbox.list(id, { status: query.status, limit: query.limit ?? 50, cursor: query.cursor }));
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiIdParam('webhook')
  @ApiIdParam('delivery')
  @ApiOperation({
    summary: 'Send a delivery again',
    description:
      'Needs role **operator**. A delivered or dead delivery becomes pending and is attempted at once, with the same `webhook-id` ' +
      '(receivers that de-duplicate by it see it once); it is retried as a new delivery would be. 409 while it is pending, or while the subscription is disabled.',
  })
  @ApiAcceptedResponse({ type: WebhookDeliveryView, description: 'The delivery, pending.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    notFound: 'No such subscription, or it has no delivery with this id.',
    id: 'delivery',
    badRequest: badIdDescription('webhook'),
    conflict: 'The delivery is pending already, or the subscription is disabled (enable it first).',
    conflictExample: 'webhook delivery msg_3b9d0c1e7a2f48d6b5e0a9c4f1d27e83 is still pending; it is attempted already',
    noBody: true,
  })
  async redeliver(
    @Param('id', webhookId) id: string,
    @Param('deliveryId', deliveryId) delivery: string,
    @ApiCaller() caller: string,
  ): Promise<WebhookDelivery> {
    const subscription = await this.guard(() => this.subscriptions.require(id));
    if (subscription.status === 'disabled') throw new ConflictException(`webhook subscription ${id} is disabled; enable it first`);
    return this.guard(() => this.outbox.redeliver(id, delivery, Date.now(), caller));
  }

  private async guard<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (error) {
      if (error instanceof WebhookNotFoundError || error instanceof DeliveryNotFoundError) throw new NotFoundException(error.message);
      if (error instanceof WebhookVersionConflictError || error instanceof DeliveryPendingError || error instanceof TooManyWebhookSecretsError)
        throw new ConflictException(error.message);
      if (error instanceof DeliveryCursorMismatchError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
