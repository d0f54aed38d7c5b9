import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Each `<!-- excerpt: PATH -->` and the fenced block after it. */
function excerpts(markdown: string): Array<{ path: string; code: string }> {
  const found: Array<{ path: string; code: string }> = [];
  const pattern = /<!-- excerpt: (\S+) -->\n```[a-z]*\n([\s\S]*?)\n```/g;
  for (let match = pattern.exec(markdown); match; match = pattern.exec(markdown)) {
    found.push({ path: match[1]!, code: match[2]! });
  }
  return found;
}

describe('docs/examples.md', () => {
  const markdown = read('docs/examples.md');
  const all = excerpts(markdown);

  it('quotes the real files, so its code is what CI builds and tests', () => {
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(markdown.split('<!-- excerpt:').length - 1).toBe(all.length);
  });

  it.each(all.map((e, i) => [`${i + 1}: ${e.path}`, e]))('excerpt %s is in the file, verbatim', (_, e) => {
    const { path, code } = e as { path: string; code: string };
    expect(read(path)).toContain(code);
  });
});

describe('each example installs only what its backend needs', () => {
  it.each([
    ['in-memory', ['@es/core', '@es/example']],
    ['sqlite', ['@es/example', '@es/sql', 'better-sqlite3']],
    ['postgres', ['@es/example', '@es/sql', 'pg']],
    ['mysql', ['@es/example', '@es/sql', 'mysql2']],
    ['cassandra', ['@es/cassandra', '@es/example']],
  ])('examples/%s', (dir, expected) => {
    const pkg = JSON.parse(read(`examples/${dir}/package.json`)) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(expected);
  });
});
