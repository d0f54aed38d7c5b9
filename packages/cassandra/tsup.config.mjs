import { packageConfig } from '../../tsup.base.mjs';

// The feed's sequencer as a command of its own (package.json's bin).
export default packageConfig(['src/index.ts', 'src/feed-sequencer-cli.ts']);
