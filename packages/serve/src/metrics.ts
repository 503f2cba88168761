import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics of one service (its own registry, so several services can share a process). */
export interface ServiceMetrics {
  registry: Registry;
  /** `rlr_http_requests_total{route, status}`. */
  requests: Counter<'route' | 'status'>;
  /** `rlr_http_request_duration_seconds{route}`: from arrival to the answer. */
  latency: Histogram<'route'>;
  /** `rlr_queue_depth`: images waiting for a batch. */
  queueDepth: Gauge;
  /** `rlr_requests_in_flight`: predict requests admitted (uploading, waiting or scored now). */
  inFlight: Gauge;
  /** `rlr_batch_size`: images per backend batch. */
  batchSize: Histogram;
  /** `rlr_batch_duration_seconds`: time of one backend batch. */
  batchDuration: Histogram;
  /** `rlr_model_ready`: 1 once the model is loaded and warmed up. */
  ready: Gauge;
}

/** Create the service metrics; `prefix` defaults to `rlr_`. */
export function createMetrics(prefix = 'rlr_'): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: `${prefix}http_requests_total`, help: 'HTTP requests answered, by route and status code', labelNames: ['route', 'status'], registers }),
    latency: new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'Time from a request arriving to its answer, by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    queueDepth: new Gauge({ name: `${prefix}queue_depth`, help: 'Images waiting for a backend batch', registers }),
    inFlight: new Gauge({ name: `${prefix}requests_in_flight`, help: 'Predict requests admitted: uploading, waiting or being scored', registers }),
    batchSize: new Histogram({ name: `${prefix}batch_size`, help: 'Images per backend batch', buckets: [1, 2, 4, 8, 16, 32, 64], registers }),
    batchDuration: new Histogram({ name: `${prefix}batch_duration_seconds`, help: 'Time of one backend batch', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers }),
    ready: new Gauge({ name: `${prefix}model_ready`, help: '1 once the model is loaded and warmed up, 0 before and while shutting down', registers }),
  };
}
