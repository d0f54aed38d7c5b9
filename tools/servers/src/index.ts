export {
  BACKENDS,
  BACKEND_NAMES,
  SERVER_NAMES,
  type Backend,
  type BackendName,
  type ServerName,
  backendsMarkdown,
  howToStart,
  isBackendName,
  isCi,
  parseBackendList,
  redactUrl,
  serverUrl,
} from './backends.js';
export {
  PROBED_VARIABLE,
  type ProbeResult,
  cassandraContact,
  describeProbe,
  probe,
  probeAll,
} from './probe.js';
// requireBackend is at '@es/servers/jest': it loads @es/testing and jest's globals, which only test files have.
