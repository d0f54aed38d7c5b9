/**
 * @es/core/backend: what a backend author needs beyond what an application uses. A backend extends
 * ActiveRecordStrategy (three hooks over validated, canonical input) and runs its operations through an
 * InFlight, so that close() waits for them; the conformance suite in `@es/testing/conformance` is its
 * contract. Applications never import this.
 * @packageDocumentation
 */
export {
  ActiveRecordStrategy,
  type ActiveRecordStrategyOptions,
  type NormalizedQuery,
  inRange,
  MAX_TOPIC_LENGTH,
  MAX_SEQUENCE_ID_LENGTH,
} from './record-strategy.js';
export { type TableOption, tableOption } from './table-option.js';
export { conflictError, notNext } from './conflicts.js';
export { ItemShape } from './sequenced-item.js';
export { requireNotificationLog, selectMatching } from './recorders.js';
export {
  requireProcessRecorder,
  isProcessRecorder,
  validateTrackingList,
  validateTrackingName,
} from './process-recorder.js';
export { AppendSignal, appendSignalFor } from './append-signal.js';
export { InFlight } from './in-flight.js';
export { OrderedWrites } from './ordered-writes.js';
export { disposable, type StoreBackend } from './store.js';
export { assertIdentifier, hasLoneSurrogate } from './validation.js';
export { sealEvent, roleOf, type EventRole, createTimestamp } from './events.js';
export { mutateEntity } from './entity.js';
