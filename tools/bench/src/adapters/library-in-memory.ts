import { InMemoryActiveRecordStrategy } from '@es/core';
import { LibraryAdapter } from './library.js';

export function libraryInMemory(): LibraryAdapter {
  return new LibraryAdapter({
    strategyDescription: 'InMemoryActiveRecordStrategy',
    async open() {
      return {
        events: new InMemoryActiveRecordStrategy(),
        snapshots: new InMemoryActiveRecordStrategy({ contiguous: false }),
      };
    },
    async close() {},
    async serverVersion() {
      return undefined;
    },
  });
}
