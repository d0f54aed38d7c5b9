import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BACKENDS,
  BACKEND_NAMES,
  backendsMarkdown,
  cassandraContact,
  howToStart,
  isBackendName,
  parseBackendList,
  redactUrl,
  serverUrl,
} from '../src/index.js';

describe('the table of backends', () => {
  it('names five backends, three of them with a server, each with a distinct variable', () => {
    expect(BACKEND_NAMES).toEqual(['memory', 'sqlite', 'postgres', 'mysql', 'cassandra']);
    const variables = BACKEND_NAMES.flatMap((name) => BACKENDS[name].server?.variable ?? []);
    expect(variables).toEqual(['ES_POSTGRES_URL', 'ES_MYSQL_URL', 'ES_CASSANDRA_URL']);
  });

  it('reads a server from its variable, else the default', () => {
    expect(serverUrl('postgres', {})).toBe('postgres://postgres@127.0.0.1:5432/test');
    expect(serverUrl('postgres', { ES_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5433/test' })).toBe(
      'postgres://postgres@127.0.0.1:5433/test',
    );
    expect(serverUrl('mysql', { ES_MYSQL_URL: '  ' })).toBe('mysql://root@127.0.0.1:3306/test');
  });

  it('parses lists in table order and refuses unknown names, naming the known ones', () => {
    expect(parseBackendList('cassandra, postgres')).toEqual(['postgres', 'cassandra']);
    expect(() => parseBackendList('postgres,mariadb')).toThrow(
      'unknown backend(s) mariadb; known: memory, sqlite, postgres, mysql, cassandra',
    );
    expect(isBackendName('in-memory')).toBe(false);
    expect(isBackendName('memory')).toBe(true);
  });

  it('says how to start a server, or where to point its variable', () => {
    expect(howToStart('cassandra')).toBe(
      'pnpm cassandra start (fetches Cassandra 5.0 from Maven Central; needs Java 17 and Maven); or point ES_CASSANDRA_URL at one',
    );
  });

  it('hides passwords in URLs', () => {
    expect(redactUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
    expect(redactUrl('mysql://root@h/db')).toBe('mysql://root@h/db');
  });

  it('finds the contact points, data centre and credentials of a Cassandra URL', () => {
    expect(cassandraContact('cassandra://127.0.0.1:9042/?localDataCenter=dc1')).toEqual({
      contactPoints: ['127.0.0.1:9042'],
      localDataCenter: 'dc1',
    });
    expect(cassandraContact('cassandra://a,b:9142/ks')).toEqual({
      contactPoints: ['a:9042', 'b:9142'],
      localDataCenter: 'datacenter1',
    });
    expect(cassandraContact('cassandra://cassandra:p%40ss@127.0.0.1:9142/?localDataCenter=dc2')).toEqual({
      contactPoints: ['127.0.0.1:9142'],
      localDataCenter: 'dc2',
      credentials: { username: 'cassandra', password: 'p@ss' },
    });
    expect(() => cassandraContact('http://a')).toThrow('not a cassandra:// URL');
  });

  it('is shown once in the docs, exactly as the code has it', () => {
    const page = readFileSync(join(__dirname, '../../../docs/servers.md'), 'utf8');
    expect(page).toContain(backendsMarkdown());
  });
});
