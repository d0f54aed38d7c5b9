import { InMemoryActiveRecordStrategy } from '@es/core';
import { ExampleApplication } from '@es/example';

/**
 * The example application on the in-memory backend: nothing to install, nothing to start, and nothing
 * kept once the process exits. The reference for what every other backend must do.
 */
export async function createApplication(): Promise<ExampleApplication> {
  return new ExampleApplication({ activeRecordStrategy: new InMemoryActiveRecordStrategy() });
}

/** Where `createApplication()` keeps the events. */
export function dataLocation(): string {
  return 'process memory (nothing outlives this process)';
}
