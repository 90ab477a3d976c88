/**
 * One stage of the BullMQ peer (assign → execute → evaluate), forked by the bench from
 * dist/scripts/bench/peers: a Worker on its stage's queue, concurrency 50, that adds each job to
 * the next stage's queue; the last stage just completes its job, which marks the mission done.
 * Environment: REDIS_URL, PEER_PREFIX (BullMQ's `prefix`), PEER_QUEUE, PEER_NEXT (empty for the
 * last stage), PEER_CONCURRENCY.
 */
import { Queue, Worker } from 'bullmq';

const connection = { url: process.env.REDIS_URL, maxRetriesPerRequest: null };
const prefix = process.env.PEER_PREFIX;
const next = process.env.PEER_NEXT ? new Queue(process.env.PEER_NEXT, { connection, prefix }) : undefined;
const worker = new Worker(
  process.env.PEER_QUEUE ?? 'assign',
  async (job) => {
    if (next) await next.add(job.name, job.data);
  },
  { connection, prefix, concurrency: Number(process.env.PEER_CONCURRENCY) || 50 },
);
worker.on('error', (error) => process.stderr.write(`bullmq peer ${process.env.PEER_QUEUE}: ${error.message}\n`));
void worker.waitUntilReady().then(() => process.send?.('ready'));

const stop = () => void Promise.allSettled([worker.close(), next?.close()]).finally(() => process.exit(0));
process.on('message', (message) => message === 'stop' && stop());
// The bench died: do not linger.
process.on('disconnect', stop);
