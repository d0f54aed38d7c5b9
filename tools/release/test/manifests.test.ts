import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLISHED, exists, importedPackages, manifest, packageFolder, root } from '../src/packages.js';

/**
 * What npm shows and what a user's package manager installs: each published package has its license,
 * a README, the repository's links, public access, and dependencies that match what its code imports.
 */
const rootManifest = manifest(root);

describe.each(PUBLISHED)('@es/%s, as published', (folder) => {
  const dir = packageFolder(folder);
  const pkg = manifest(dir);

  it('has an MIT LICENSE file (the root one) and a README of its own', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme.startsWith(`# ${pkg.name}\n`)).toBe(true);
    expect(readme.length).toBeGreaterThan(400);
  });

  it("has the repository's links, keywords, a description and public access", () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.repository).toEqual({ ...rootManifest.repository, directory: `packages/${folder}` });
    expect(pkg.homepage).toMatch(
      new RegExp(`^${rootManifest.homepage!.replace(/#readme$/, '')}/tree/main/packages/${folder}#readme$`),
    );
    expect(pkg.bugs).toEqual(rootManifest.bugs);
    expect(pkg.keywords?.length).toBeGreaterThan(1);
    expect(pkg.description?.length).toBeGreaterThan(20);
    expect(pkg.publishConfig?.access).toBe('public');
  });

  it('depends on exactly what its sources import (dependencies or peers), nothing more', () => {
    const imported = [...importedPackages(join(dir, 'src'))].sort();
    const declared = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });
    // @es/core loads its backends by URL scheme, through a computed import: they are its optional peers.
    const loadedByName = folder === 'core' ? ['@es/cassandra', '@es/sql'] : [];
    expect([...new Set([...imported, ...loadedByName])].sort()).toEqual([...declared].sort());
    for (const dev of Object.keys(pkg.devDependencies ?? {})) expect(pkg.dependencies?.[dev]).toBeUndefined();
  });
});

describe('the repository', () => {
  it('has the MIT license at its root', () => {
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
  });

  it('versions with changesets: the five packages as one, published publicly, with a first changeset', () => {
    const config = JSON.parse(readFileSync(join(root, '.changeset', 'config.json'), 'utf8')) as {
      access: string;
      fixed: string[][];
    };
    expect(config.access).toBe('public');
    expect([...config.fixed[0]!].sort()).toEqual(
      PUBLISHED.map((f) => manifest(packageFolder(f)).name).sort(),
    );
    expect(exists(join(root, '.changeset', 'first-release.md'))).toBe(true);
  });

  it('@es/core has no runtime dependency at all (zod only types its tests)', () => {
    expect(manifest(packageFolder('core')).dependencies ?? {}).toEqual({});
  });
});
