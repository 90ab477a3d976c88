import { applyDecorators, Controller, UseFilters } from '@nestjs/common';
import { PassThroughRpcFilter } from './pass-through-rpc.filter';

/**
 * Marks a controller whose handlers consume a Redis stream (@EventPattern, @MessagePattern). It
 * binds PassThroughRpcFilter, so the transport sees a handler's own error (poison or retry) instead
 * of Nest's generic "Internal server error". The filter is bound here rather than as a global
 * filter of the microservice: a hybrid app's microservice can only take global filters when its
 * initialization is deferred, and then it runs the lifecycle hooks a second time.
 */
export function StreamConsumer(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(new PassThroughRpcFilter()));
}
