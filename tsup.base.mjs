// Every package builds the same way: ESM + CJS + declarations, from one explicit entry per export.
export function packageConfig(entry = ['src/index.ts']) {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { composite: false } },
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: false,
  };
}
