import type { LibraryAdapter } from './library.js';
import { librarySql } from './library-sql.js';

export function libraryPostgres(url: string): LibraryAdapter {
  return librarySql(url, "select current_setting('server_version') as v", 'PostgreSQL');
}
