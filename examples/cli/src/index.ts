export { main, type CliIo } from './cli.js';
export { BACKENDS, type BackendName, backends } from './backends.js';
