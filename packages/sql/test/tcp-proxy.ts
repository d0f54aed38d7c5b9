import { type Server, type Socket, createServer, connect } from 'node:net';

/**
 * A TCP proxy on loopback, in the test process, that can cut the network silently: while cut, bytes in
 * either direction are dropped and no connection is closed or reset, as when a route or a firewall
 * drops packets. Connections that were open during a cut stay dead (their protocol lost bytes); `heal`
 * lets new connections through again.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly links = new Set<{ client: Socket; upstream: Socket; dead: boolean }>();
  private cutting = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      const link = { client, upstream, dead: this.cutting };
      this.links.add(link);
      client.on('data', (chunk) => void (!link.dead && !this.cutting && upstream.write(chunk)));
      upstream.on('data', (chunk) => void (!link.dead && !this.cutting && client.write(chunk)));
      const close = (): void => {
        this.links.delete(link);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Drops every byte from now on, silently. */
  cut(): void {
    this.cutting = true;
    for (const link of this.links) link.dead = true;
  }

  /** New connections pass again; those open during the cut stay dead. */
  heal(): void {
    this.cutting = false;
  }

  /** Connections open now (dead ones included). */
  get connections(): number {
    return this.links.size;
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
