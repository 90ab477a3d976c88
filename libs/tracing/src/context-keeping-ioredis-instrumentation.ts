import { Context, context } from '@opentelemetry/api';
import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import type * as IORedis from 'ioredis';

type SendCommand<This, Args extends unknown[]> = (this: This, command: IORedis.Command, ...rest: Args) => unknown;

/** The context each queued command was issued in; weak, so a command that was never sent is not held. */
const issuedIn = new WeakMap<IORedis.Command, Context>();

/** Remembers the context a command is issued in, the first time it is handed to a pipeline or a cluster. */
function remembersContext<This, Args extends unknown[]>(original: SendCommand<This, Args>): SendCommand<This, Args> {
  return function (this: This, command, ...rest) {
    if (!issuedIn.has(command)) issuedIn.set(command, context.active());
    return original.call(this, command, ...rest);
  };
}

/** Sends a command in the context it was issued in, so that the instrumentation beneath traces it there. */
function sendsInIssuedContext<This, Args extends unknown[]>(original: SendCommand<This, Args>): SendCommand<This, Args> {
  return function (this: This, command, ...rest) {
    const issued = issuedIn.get(command);
    if (issued === undefined || issued === context.active()) return original.call(this, command, ...rest);
    return context.with(issued, original, this, command, ...rest);
  };
}

/**
 * The ioredis instrumentation, with every command traced in the context that issued it.
 *
 * The instrumentation starts a command's span in the context active when ioredis *sends* it. With
 * auto-pipelining (every connection of the services but the blocking ones) the commands issued in
 * one tick are sent together, a tick later, from the context of the first of them: a command of one
 * request was traced in another request's trace, and every command queued behind an untraced one
 * (a poll, a sweep, `untraced` work) had no span at all. A cluster sends a command later too, once
 * its slot's node is known. So each command handed to a pipeline or a cluster keeps the context it
 * was issued in, and a connection sends it in that context.
 */
export class ContextKeepingIORedisInstrumentation extends IORedisInstrumentation {
  override init(): InstrumentationNodeModuleDefinition[] {
    return super.init().map((definition) => {
      // The instrumentation's own wrapper. Ours goes around it by hand: wrapping a method twice the
      // instrumentation's way takes the first wrapper off.
      let traced: IORedis.Redis['sendCommand'] | undefined;
      return new InstrumentationNodeModuleDefinition(
        definition.name,
        definition.supportedVersions,
        (exports: typeof IORedis, moduleVersion?: string) => {
          const patched = definition.patch?.(exports, moduleVersion) ?? exports;
          const redis = exports.Redis.prototype;
          traced = redis.sendCommand;
          redis.sendCommand = sendsInIssuedContext(traced);
          this._wrap(exports.Pipeline.prototype, 'sendCommand', remembersContext);
          this._wrap(exports.Cluster.prototype, 'sendCommand', remembersContext);
          return patched;
        },
        (exports: typeof IORedis | undefined, moduleVersion?: string) => {
          if (exports === undefined) return;
          this._unwrap(exports.Cluster.prototype, 'sendCommand');
          this._unwrap(exports.Pipeline.prototype, 'sendCommand');
          if (traced) exports.Redis.prototype.sendCommand = traced;
          traced = undefined;
          definition.unpatch?.(exports, moduleVersion);
        },
        definition.files,
      );
    });
  }
}
