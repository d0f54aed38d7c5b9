import { randomUUID } from 'node:crypto';
import { SequencedItemMapper } from '@es/core';
import { BenchEntity } from '../src/domain.js';
const mapper = new SequencedItemMapper();
const cpu = () => { const c = process.cpuUsage(); return c.user + c.system; };
let sink: unknown;
for (let r = 0; r < 8; r++) {
  const stream = randomUUID();
  const events = Array.from({ length: 100 }, (_, i) => Object.freeze(new BenchEntity.AttributeChanged({ originatorId: stream, originatorVersion: i, name: 'value', value: `v:${r}:${i}`.padEnd(64, '.') })));
  for (const mode of ['to', 'deferred']) {
    const c0 = cpu();
    for (let k = 0; k < 2000; k++) for (const e of events) sink = mode === 'to' ? mapper.toSequencedItem(e) : mapper.toDeferredItem(e);
    console.log(mode, ((cpu() - c0) / 200000).toFixed(3));
  }
}
