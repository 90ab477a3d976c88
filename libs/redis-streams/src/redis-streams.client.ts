import { OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { RedisConnection } from '@app/redis';
import { currentTraceCarrier } from '@app/tracing';
import { encodeMessage } from './stream-message';

export interface RedisStreamsClientOptions {
  connect: () => RedisConnection;
  /**
   * The stream of the service this client talks to, or, when that service has one stream per log
   * partition, a function that picks the stream for a message.
   */
  stream: string | ((pattern: string, data: unknown) => string);
}

/**
 * Emits events onto a service's stream (`client.emit(pattern, data)`). Streams carry events
 * only: request/response would need a reply channel per caller, and no flow here waits on one.
 */
export class RedisStreamsClient extends ClientProxy implements OnApplicationShutdown {
  private redis: RedisConnection | null = null;

  constructor(private readonly options: RedisStreamsClientOptions) {
    super();
  }

  async connect(): Promise<RedisConnection> {
    this.redis ??= this.options.connect();
    return this.redis;
  }

  async close(): Promise<void> {
    const redis = this.redis;
    this.redis = null;
    if (redis) await redis.quit().catch(() => undefined);
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  unwrap<T>(): T {
    return this.redis as T;
  }

  protected async dispatchEvent<T = string>(packet: ReadPacket): Promise<T> {
    const redis = await this.connect();
    const pattern = typeof packet.pattern === 'string' ? packet.pattern : JSON.stringify(packet.pattern);
    const stream = typeof this.options.stream === 'string' ? this.options.stream : this.options.stream(pattern, packet.data);
    return (await redis.xadd(stream, '*', ...encodeMessage(pattern, packet.data, currentTraceCarrier()))) as T;
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('request/response is not supported over Redis Streams: use emit()'), isDisposed: true });
    return () => undefined;
  }
}
