/** Prometheus metrics of a node: the trainer's counters, model tokens, library size, retrieval latency. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { DsoNode } from './dso-node.js';
import type { TrainerMetrics } from './trainer.js';

const COUNTERS: [keyof TrainerMetrics, string, string][] = [
  ['steps', 'dso_steps_total', 'Optimizer steps run'],
  ['syncs', 'dso_syncs_total', 'Network syncs completed'],
  ['batchesSubmitted', 'dso_batches_submitted_total', 'Batches this node submitted'],
  ['batchesAccepted', 'dso_batches_accepted_total', 'Accepted batches fetched and verified'],
  ['batchesRejected', 'dso_batches_rejected_total', 'Batches this node voted down'],
  ['experiencesMerged', 'dso_experiences_merged_total', 'Experiences from the network merged into the library'],
  ['bytesOut', 'dso_bytes_out_total', 'Bytes this node published for peers'],
  ['bytesIn', 'dso_bytes_in_total', 'Bytes fetched from peers'],
  ['votesCast', 'dso_votes_cast_total', 'Votes this node cast on batches'],
  ['batchesFinalized', 'dso_batches_finalized_total', 'Batches past their deadline this node finalized'],
  ['syncFailures', 'dso_sync_failures_total', 'Sync steps that failed (each is tried again at the next sync)'],
  ['experiencesRefused', 'dso_experiences_refused_total', 'Experiences of accepted batches the robust merge left out'],
];

export class NodeMetrics {
  readonly registry = new Registry();
  readonly retrieval: Histogram;

  constructor(node: DsoNode, connections?: () => { open: number; shed: number }) {
    for (const [key, name, help] of COUNTERS) {
      // The trainer owns the counts; the counter reports them as they are at scrape time.
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(node.trainer.metrics[key]);
        },
      });
    }
    // Tokens the node's optimizer spent, as its model server reported them.
    for (const [key, name, help] of [
      ['prompt', 'dso_model_prompt_tokens_total', 'Prompt tokens of the model calls this node made'],
      ['completion', 'dso_model_completion_tokens_total', 'Completion tokens of the model calls this node made'],
      ['calls', 'dso_model_calls_total', 'Model calls this node made'],
    ] as const) {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(node.optimizer?.tokens[key] ?? 0);
        },
      });
    }
    new Gauge({
      name: 'dso_library_experiences',
      help: 'Experiences in the library',
      registers: [this.registry],
      collect() {
        this.set(node.library.size);
      },
    });
    if (connections) {
      new Gauge({
        name: 'dso_http_connections',
        help: 'Open HTTP connections',
        registers: [this.registry],
        collect() {
          this.set(connections().open);
        },
      });
      new Counter({
        name: 'dso_http_connections_shed_total',
        help: 'HTTP connections closed for being slow: past a header or request deadline, or to stay under the connection cap',
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(connections().shed);
        },
      });
    }
    this.retrieval = new Histogram({
      name: 'dso_retrieval_seconds',
      help: 'Time to retrieve experiences for a query',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
      registers: [this.registry],
    });
  }
}
