/** A worker thread of `dso simulate`: builds the batches of a slice of the simulated nodes. */
import { buildNodeOutputs, type NodeOutput, type NodeTask } from './sim-nodes.js';

export default function run(task: NodeTask): Promise<NodeOutput[]> {
  return buildNodeOutputs(task);
}
