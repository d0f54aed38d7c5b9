import { getInMemoryEventStore } from '@event-driven-io/emmett';
import { EmmettAdapter } from './emmett.js';

export function emmettInMemory(): EmmettAdapter {
  return new EmmettAdapter({
    storeDescription: 'getInMemoryEventStore()',
    async open() {
      return getInMemoryEventStore();
    },
    async close() {},
    async serverVersion() {
      return undefined;
    },
  });
}
