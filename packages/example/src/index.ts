export { Example, createNewExample } from './domain.js';
