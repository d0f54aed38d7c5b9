import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

/** The repository's root. */
export const root = join(__dirname, '..', '..', '..');

/** The packages published to npm, by folder under packages/. */
export const PUBLISHED = ['core', 'sql', 'cassandra', 'testing', 'example'] as const;
export type PublishedFolder = (typeof PUBLISHED)[number];

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  description?: string;
  keywords?: string[];
  repository?: { type: string; url: string; directory?: string };
  homepage?: string;
  bugs?: { url: string };
  publishConfig?: { access?: string };
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

export function manifest(folder: string): Manifest {
  return JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Manifest;
}

export function packageFolder(name: PublishedFolder): string {
  return join(root, 'packages', name);
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts)$/.test(entry) ? [path] : [];
  });
}

/**
 * The packages a folder's sources import (static, dynamic and type-only imports: a type import is in the
 * published .d.ts files, so it must resolve for the user too), by package name; Node's built-ins left out.
 */
export function importedPackages(srcFolder: string): Set<string> {
  const names = new Set<string>();
  // Static imports and re-exports (at the start of a line), side-effect imports, and dynamic imports.
  const specifier =
    /^(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/gm;
  for (const file of sourceFiles(srcFolder)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(specifier)) {
      const spec = (match[1] ?? match[2] ?? match[3])!;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const parts = spec.split('/');
      names.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
    }
  }
  return names;
}

export function exists(path: string): boolean {
  return existsSync(path);
}
