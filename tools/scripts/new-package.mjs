// Writes the build/test boilerplate of a workspace package: node tools/scripts/new-package.mjs DIR NAME [description]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const [dir, name, description = ''] = process.argv.slice(2);
const root = relative(dir, '.') || '.';
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });
const write = (file, text) => {
  if (!existsSync(join(dir, file))) writeFileSync(join(dir, file), text);
};
write(
  'package.json',
  JSON.stringify(
    {
      name,
      version: '0.1.0',
      description,
      license: 'MIT',
      type: 'module',
      main: './dist/index.cjs',
      module: './dist/index.js',
      types: './dist/index.d.cts',
      exports: {
        '.': {
          import: { types: './dist/index.d.ts', default: './dist/index.js' },
          require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
        },
        './package.json': './package.json',
      },
      files: ['dist'],
      engines: { node: '>=20.19' },
      scripts: {
        build: 'tsup',
        test: 'jest',
        typecheck: 'tsc -p tsconfig.json --noEmit',
        'check:packaging': 'publint --strict && attw --pack . --profile node16',
      },
      dependencies: {},
    },
    null,
    2,
  ) + '\n',
);
write(
  'tsconfig.json',
  JSON.stringify(
    { extends: `${root}/tsconfig.base.json`, compilerOptions: { noEmit: true }, include: ['src', 'test'] },
    null,
    2,
  ) + '\n',
);
write(
  'tsconfig.build.json',
  JSON.stringify(
    {
      extends: `${root}/tsconfig.base.json`,
      compilerOptions: { composite: false, types: ['node'] },
      include: ['src'],
    },
    null,
    2,
  ) + '\n',
);
write(
  'tsup.config.mjs',
  `import { packageConfig } from '${root}/tsup.base.mjs';\n\nexport default packageConfig();\n`,
);
write('jest.config.cjs', `module.exports = { ...require('${root}/jest.preset.cjs') };\n`);
