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
export { type ProbeResult, cassandraContact, describeProbe, probe, probeAll } from './probe.js';
export { PROBED_VARIABLE, requireBackend } from './jest.js';
