/** The durable job queue's public surface. */
export * from './job.js';
export { JobQueue, jobErrorOf, type JobQueueLogger, type JobQueueOptions } from './job-queue.js';
