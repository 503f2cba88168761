/**
 * `@rlr/serve`: serve an RLR anomaly detector. A Fastify HTTP service (limits, micro-batching,
 * Prometheus metrics, graceful shutdown) and BullMQ queue workers, both over a small
 * {@link Predictor} interface that any model can back.
 *
 * @packageDocumentation
 */
export { isImageFailure, type ImageFailure, type PredictMap, type PredictOptions, type PredictOutcome, type PredictResult, type Predictor } from './predictor.js';
export { MicroBatcher, AbortedError, type BatcherOptions } from './batcher.js';
export { createMetrics, type ServiceMetrics } from './metrics.js';
export { encodeGrayPng, mapToPng, type MapPng } from './png.js';
export { sniffImage, type SniffedFormat } from './sniff.js';
export { rlrRoutes, startService, drain, DEFAULT_LIMITS, type PredictResponse, type RoutesOptions, type RunningService, type ServiceLimits, type ServiceState, type StartOptions } from './service.js';
export { startQueueWorker, submitAndWait, jobIdOf, DEFAULT_QUEUE_NAME, type QueueWorkerOptions, type RunningWorker, type ScoreJob, type ScoreJobResult, type SubmitLine, type SubmitOptions } from './queue.js';
export { checkRedis, parseRedisUrl, redactUrl, QueueConnectionError } from './redis.js';
