import * as backend from '../src/backend.js';
import * as core from '../src/index.js';

/**
 * @es/core's entry is what an application uses; what only a backend author needs is behind
 * `@es/core/backend`. This test keeps them apart, so that internals do not drift back into the entry.
 */
const BACKEND_ONLY = [
  'ActiveRecordStrategy',
  'tableOption',
  'inRange',
  'MAX_TOPIC_LENGTH',
  'MAX_SEQUENCE_ID_LENGTH',
  'notNext',
  'conflictError',
  'ItemShape',
  'requireNotificationLog',
  'selectMatching',
  'requireProcessRecorder',
  'isProcessRecorder',
  'validateTrackingList',
  'validateTrackingName',
  'AppendSignal',
  'appendSignalFor',
  'InFlight',
  'OrderedWrites',
  'disposable',
  'assertIdentifier',
  'hasLoneSurrogate',
  'sealEvent',
  'roleOf',
  'createTimestamp',
  'mutateEntity',
];

describe("@es/core's public surface", () => {
  it('keeps the backend-author API behind @es/core/backend', () => {
    expect(Object.keys(backend).sort()).toEqual([...BACKEND_ONLY].sort());
    for (const name of BACKEND_ONLY) expect(Object.keys(core)).not.toContain(name);
  });

  it("exports what the README's application uses from the entry", () => {
    for (const name of [
      'Aggregate',
      'Application',
      'openStore',
      'memoryStore',
      'StoreClosedError',
      'MissingTableError',
    ])
      expect(Object.keys(core)).toContain(name);
  });
});
