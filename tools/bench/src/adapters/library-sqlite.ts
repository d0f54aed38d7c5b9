import { join } from 'node:path';
import type { LibraryAdapter } from './library.js';
import { librarySql } from './library-sql.js';

export function librarySqlite(dir: string): LibraryAdapter {
  return librarySql(`sqlite:${join(dir, 'library.sqlite')}`, 'select sqlite_version() as v', 'SQLite');
}
