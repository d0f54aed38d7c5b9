export {
  DEFAULT_VERSION,
  MODES,
  type Command,
  type Mode,
  type NodeOptions,
  type RingOptions,
  type ToolEnvironment,
  UsageError,
  clockOffset,
  parseCommand,
  toolEnvironment,
} from './options.js';
export { type NodeConfig, cassandraYaml, jvmArgs, ringNodes, singleNode } from './config.js';
export { fetchCassandra, hasMaven, isFetched } from './fetch.js';
export { findJava, nodeUrl, probeNode } from './node.js';
export {
  OFFSET_CLOCK_CLASS,
  OFFSET_CLOCK_SOURCE,
  OFFSET_PROPERTY,
  clockOffsetProperties,
  commandLineClockOffset,
  findJavac,
  offsetClockClasses,
  processClockOffset,
} from './clock.js';
export {
  type NodeStatus,
  type StartResult,
  describeNodeStatus,
  nodeStatus,
  startNode,
  stopNode,
} from './single.js';
export {
  type Ring,
  type RingNodeStatus,
  type RingStartResult,
  type RingStatus,
  describeRingStatus,
  killRingNode,
  readRing,
  restartRingNode,
  ringNodeClockOffset,
  ringNodePid,
  ringNotRunning,
  ringStatus,
  ringUrl,
  startRing,
  stopRing,
  waitForRing,
} from './ring.js';
export { type RingCheckReport, checkRing } from './ring-check.js';
export {
  PARTITION_CHAIN,
  groupsMismatch,
  healPartitions,
  nodeGroupId,
  partition,
  partitionDrops,
  partitionRules,
  partitionUnavailable,
} from './partition.js';
