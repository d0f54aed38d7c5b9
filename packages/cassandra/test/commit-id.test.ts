import { newCommitId } from '../src/outcome.js';

// Commit ids come from a buffer filled 256 at a time (the driver's Uuid.random asks for 16 bytes per id).
describe('commit ids (no server)', () => {
  it('are random version 4 UUIDs, distinct across refills, each keeping its own bytes', () => {
    const first = newCommitId();
    const text = first.toString();
    const ids = Array.from({ length: 1000 }, () => newCommitId().toString());
    expect(new Set([text, ...ids]).size).toBe(1001);
    for (const id of [text, ...ids])
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Later refills did not overwrite the first id's bytes.
    expect(first.toString()).toBe(text);
  });
});
