import { BaseRpcContext } from '@nestjs/microservices';

type ContextArgs = [stream: string, messageId: string, deliveries: number, partition: number, maxDeliveries: number];

export class RedisStreamsContext extends BaseRpcContext<ContextArgs> {
  getStream(): string {
    return this.args[0];
  }
  getMessageId(): string {
    return this.args[1];
  }
  /** 1 on the first delivery; higher when the message was reclaimed after a failure or a crash. */
  getDeliveries(): number {
    return this.args[2];
  }
  /** Whether a failure now moves the message to the poison stream (it has had its last delivery). */
  isLastDelivery(): boolean {
    return this.args[2] >= this.args[4];
  }
  /** The log partition whose stream carried the message. */
  getPartition(): number {
    return this.args[3];
  }
}
