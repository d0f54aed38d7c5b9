/**
 * @es/testing: given/when/then specifications for aggregates and entities, for any test runner (jest,
 * vitest, node:test). The backend conformance suite, which needs jest, is `@es/testing/conformance`.
 * @packageDocumentation
 */
export {
  given,
  givenEntity,
  type EntityEventSpec,
  type ErrorExpectation,
  type EventSpec,
  type Outcome,
} from './specification.js';
