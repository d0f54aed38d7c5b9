import { homedir } from 'node:os';
import { UsageError, clockOffset, parseCommand, toolEnvironment } from '../src/options.js';

describe('pnpm cassandra start', () => {
  it('defaults to the shared node: main on 127.0.0.1:9042, storage 7000, 1G, no auth, fresh data, mode fast', () => {
    expect(parseCommand(['start'])).toEqual({
      command: 'start',
      node: {
        name: 'main',
        address: '127.0.0.1',
        port: 9042,
        storagePort: 7000,
        jmxPort: undefined,
        heap: '1G',
        auth: false,
        keepData: false,
        mode: 'fast',
      },
    });
  });

  it('gives other instances a smaller heap, and takes every option', () => {
    const command = parseCommand([
      'start',
      '--name',
      'auth',
      '--port',
      '9142',
      '--storage-port=7100',
      '--jmx-port',
      '7199',
      '--auth',
      '--keep-data',
      '--mode',
      'durable',
      '--address',
      '127.0.0.9',
    ]);
    expect(command).toEqual({
      command: 'start',
      node: {
        name: 'auth',
        address: '127.0.0.9',
        port: 9142,
        storagePort: 7100,
        jmxPort: 7199,
        heap: '512M',
        auth: true,
        keepData: true,
        mode: 'durable',
      },
    });
    expect(parseCommand(['start', '--heap', '768M'])).toMatchObject({ node: { heap: '768M' } });
  });

  it.each([
    [['start', '--port', '70000'], '--port must be a port from 1 to 65535, not 70000'],
    [['start', '--port'], "Option '--port <value>' argument missing"],
    [['start', '--heap', '1gb'], '--heap must look like 512M or 1G, not 1gb'],
    [['start', '--mode', 'safe'], '--mode must be fast or durable, not safe'],
    [['start', '--name', '../etc'], 'bad instance name: "../etc"'],
    [['start', '--address', '10.0.0.1'], '--address must be a loopback address 127.x.y.z, not 10.0.0.1'],
    [['start', '--bogus'], "Unknown option '--bogus'"],
    [['start', 'extra'], 'Unexpected argument'],
    [['launch'], 'unknown command "launch"'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});

describe('pnpm cassandra stop, status, fetch, help', () => {
  it('name main by default', () => {
    expect(parseCommand(['stop'])).toEqual({ command: 'stop', name: 'main' });
    expect(parseCommand(['status', '--name', 'auth'])).toEqual({ command: 'status', name: 'auth' });
    expect(parseCommand(['fetch'])).toEqual({ command: 'fetch' });
    expect(parseCommand([])).toEqual({ command: 'help' });
    expect(parseCommand(['start', '--help'])).toEqual({ command: 'help' });
  });
});

describe('pnpm cassandra ring', () => {
  it('defaults to three durable nodes from 127.0.0.2 in one data centre, 512M each', () => {
    expect(parseCommand(['ring', 'start'])).toEqual({
      command: 'ring start',
      ring: {
        name: 'ring',
        nodes: 3,
        datacenters: 1,
        firstAddress: '127.0.0.2',
        port: 9042,
        storagePort: 7000,
        heap: '512M',
        keepData: false,
        mode: 'durable',
      },
    });
  });

  it('takes nodes, data centres, an address and a mode', () => {
    expect(
      parseCommand([
        'ring',
        'start',
        '--nodes',
        '4',
        '--datacenters',
        '2',
        '--first-address',
        '127.0.1.10',
        '--mode',
        'fast',
      ]),
    ).toMatchObject({ ring: { nodes: 4, datacenters: 2, firstAddress: '127.0.1.10', mode: 'fast' } });
  });

  it('names a node by number or address for kill, restart and wait', () => {
    expect(parseCommand(['ring', 'kill', '2'])).toEqual({ command: 'ring kill', name: 'ring', node: '2' });
    expect(parseCommand(['ring', 'restart', '127.0.0.3', '--name', 'r'])).toEqual({
      command: 'ring restart',
      name: 'r',
      node: '127.0.0.3',
    });
    expect(parseCommand(['ring', 'wait'])).toEqual({ command: 'ring wait', name: 'ring', node: undefined });
    expect(parseCommand(['ring', 'status'])).toEqual({ command: 'ring status', name: 'ring' });
  });

  it('restarts a node with its clock off: --clock-offset in seconds, minutes or hours, either sign, or 0', () => {
    expect(parseCommand(['ring', 'restart', '3', '--name', 'skew', '--clock-offset', '+20s'])).toEqual({
      command: 'ring restart',
      name: 'skew',
      node: '3',
      clockOffsetSeconds: 20,
    });
    expect(parseCommand(['ring', 'restart', '3', '--clock-offset=-30s'])).toMatchObject({
      clockOffsetSeconds: -30,
    });
    expect(parseCommand(['ring', 'restart', '3', '--clock-offset', '+2m'])).toMatchObject({
      clockOffsetSeconds: 120,
    });
    expect(parseCommand(['ring', 'restart', '3', '--clock-offset=-1h'])).toMatchObject({
      clockOffsetSeconds: -3600,
    });
    const zero = parseCommand(['ring', 'restart', '3', '--clock-offset', '0']);
    expect(zero).toMatchObject({ clockOffsetSeconds: 0 });
    expect(Object.is((zero as { clockOffsetSeconds: number }).clockOffsetSeconds, 0)).toBe(true);
    // Without the flag: no offset at all (a stopped node starts on the true clock; a running one stays).
    expect(parseCommand(['ring', 'restart', '3'])).not.toHaveProperty('clockOffsetSeconds');
    expect(clockOffset('-0s')).toBe(0);
    expect(Object.is(clockOffset('-0s'), 0)).toBe(true);
    expect(clockOffset('+24h')).toBe(86_400);
  });

  it.each([
    ['20s', 'a sign'],
    ['+20', 'no unit'],
    ['+1.5s', 'a fraction'],
    ['+20d', 'days'],
    ['+25h', 'more than a day'],
    ['-86401s', 'more than a day'],
    ['', 'empty'],
    ['+ 20s', 'a space'],
  ])('refuses --clock-offset %j (%s)', (value) => {
    expect(() => parseCommand(['ring', 'restart', '1', `--clock-offset=${value}`])).toThrow(
      `--clock-offset must be a signed duration of at most a day, such as +20s, -30s, +2m or -1h (or 0), not ${value}`,
    );
  });

  it('takes --clock-offset only on ring restart, a negative one only with =', () => {
    expect(() => parseCommand(['ring', 'restart', '1', '--clock-offset', '-30s'])).toThrow(
      "To specify an option argument starting with a dash use '--clock-offset=-XYZ'",
    );
    expect(() => parseCommand(['ring', 'kill', '1', '--clock-offset', '+20s'])).toThrow(
      "Unknown option '--clock-offset'",
    );
    expect(() => parseCommand(['ring', 'start', '--clock-offset', '+20s'])).toThrow(
      "Unknown option '--clock-offset'",
    );
    expect(() => parseCommand(['ring', 'restart', '--clock-offset', '+20s'])).toThrow(
      'ring restart needs a node',
    );
  });

  it.each([
    [['ring', 'start', '--datacenters', '4'], '--datacenters must be from 1 to 3, not 4'],
    [['ring', 'start', '--nodes', '0'], '--nodes must be from 1 to 9, not 0'],
    [['ring', 'start', '--first-address', '127.0.0.253'], 'leaves no room for 3 nodes'],
    [['ring', 'kill'], 'ring kill needs a node'],
    [['ring', 'kill', '1', '2'], 'unexpected argument "2"'],
    [['ring', 'grow'], 'unknown ring command "grow"'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(message);
  });
});

describe('the environment', () => {
  it('defaults to ~/.cache/es-cassandra, 5.0.9 and 180 s', () => {
    expect(toolEnvironment({})).toEqual({
      home: `${homedir()}/.cache/es-cassandra`,
      version: '5.0.9',
      startTimeoutMs: 180_000,
      mvnArgs: [],
    });
  });

  it('takes ES_CASSANDRA_HOME (made absolute), the version, the time limit and extra mvn arguments', () => {
    expect(
      toolEnvironment({
        ES_CASSANDRA_HOME: '/tmp/c',
        ES_CASSANDRA_VERSION: '5.0.8',
        ES_CASSANDRA_START_TIMEOUT: '60',
        ES_CASSANDRA_MVN_ARGS: '-o  -Dmaven.repo.local=/tmp/m2',
      }),
    ).toEqual({
      home: '/tmp/c',
      version: '5.0.8',
      startTimeoutMs: 60_000,
      mvnArgs: ['-o', '-Dmaven.repo.local=/tmp/m2'],
    });
    expect(toolEnvironment({ ES_CASSANDRA_HOME: 'rel' }).home).toBe(`${process.cwd()}/rel`);
    expect(() => toolEnvironment({ ES_CASSANDRA_START_TIMEOUT: '3m' })).toThrow('ES_CASSANDRA_START_TIMEOUT');
  });
});
