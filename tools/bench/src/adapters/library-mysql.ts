import type { LibraryAdapter } from './library.js';
import { librarySql } from './library-sql.js';

export function libraryMysql(url: string): LibraryAdapter {
  return librarySql(url, 'select version() as v', 'MariaDB');
}
