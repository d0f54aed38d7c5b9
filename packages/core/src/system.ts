import type { Application } from './application.js';
import { ValidationError } from './errors.js';
import type { ApplicationRecorder } from './recorders.js';
import { ProcessApplication } from './process-application.js';

/**
 * Which application follows which (python eventsourcing's System): pipes of application names, each
 * following the one before it. `new System([['orders', 'reservations', 'orders'], ['reservations',
 * 'payments', 'orders']])`: reservations follows orders, orders follows reservations and payments,
 * payments follows reservations. Cycles are allowed: an application reacts to its followers' events.
 */
export class System {
  readonly names: readonly string[];
  private readonly upstreams = new Map<string, string[]>();

  constructor(pipes: readonly (readonly string[])[]) {
    const names: string[] = [];
    for (const pipe of pipes) {
      if (!Array.isArray(pipe) || pipe.length < 2)
        throw new ValidationError('a pipe names at least two applications', 'pipes');
      for (const name of pipe) {
        if (typeof name !== 'string' || name.length === 0)
          throw new ValidationError('an application name must be a non-empty string', 'pipes');
        if (!names.includes(name)) names.push(name);
      }
      for (let i = 1; i < pipe.length; i++) {
        const [from, to] = [pipe[i - 1]!, pipe[i]!];
        if (from === to) throw new ValidationError(`${to} cannot follow itself`, 'pipes');
        const list = this.upstreams.get(to) ?? [];
        if (!list.includes(from)) list.push(from);
        this.upstreams.set(to, list);
      }
    }
    this.names = names;
  }

  /** The applications `name` follows. */
  follows(name: string): readonly string[] {
    return this.upstreams.get(name) ?? [];
  }

  /** The applications that follow something: they must be process applications. */
  get followers(): readonly string[] {
    return this.names.filter((name) => this.follows(name).length > 0);
  }
}

/**
 * Runs a system in one process (python eventsourcing's SingleThreadedRunner, with each follower on its
 * own asynchronous loop): every process application follows its upstream applications' stores. Run
 * each application in a process of its own instead with `app.follow(name, upstream)` on the
 * application it runs, over upstream stores it opens itself (see docs/following.md).
 */
export class SystemRunner implements AsyncDisposable {
  private readonly following: Promise<void>[] = [];
  private started = false;

  constructor(
    readonly system: System,
    readonly applications: Readonly<Record<string, Application<ApplicationRecorder<any>>>>,
  ) {
    for (const name of system.names) {
      if (applications[name] === undefined)
        throw new ValidationError(
          `the system names ${name}, and no application is given for it`,
          'applications',
        );
    }
    for (const name of system.followers) {
      if (!(applications[name] instanceof ProcessApplication))
        throw new ValidationError(
          `${name} follows ${system.follows(name).join(', ')}: it must be a ProcessApplication`,
          'applications',
        );
    }
  }

  /** The application of that name, typed by the caller. */
  get<A extends Application<any>>(name: string): A {
    const app = this.applications[name];
    if (app === undefined) throw new ValidationError(`no application ${name} in this system`, 'name');
    return app as A;
  }

  /**
   * Starts every follower. A follower that fails stops the others, and `whenStopped()` rejects with
   * its error.
   */
  start(): this {
    if (this.started) throw new ValidationError('the system is already running', 'start');
    this.started = true;
    for (const name of this.system.followers) {
      const app = this.applications[name] as ProcessApplication<any>;
      for (const upstream of this.system.follows(name)) {
        this.following.push(
          app.follow(upstream, this.applications[upstream]!).catch(async (error: unknown) => {
            await this.stop();
            throw error;
          }),
        );
      }
    }
    return this;
  }

  /** Resolves when every follower has stopped; rejects with the first error that stopped one. */
  async whenStopped(): Promise<void> {
    await Promise.all(this.following);
  }

  /**
   * Waits until the system is quiet: every follower has processed its upstreams' logs to their ends,
   * and no log grew while that was checked (a follower's events wake the next, in a chain or a cycle).
   */
  async whenSettled(options: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      const before = await this.heads();
      if ((await this.quiet(before)) && (await this.heads()).every((head, i) => head === before[i])) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new ValidationError('the system did not settle in time', 'timeoutMs');
  }

  /** Stops every follower (the applications stay open: their owner closes them). */
  async stop(): Promise<void> {
    await Promise.all(
      this.system.followers.map((name) =>
        (this.applications[name] as ProcessApplication<any>).stopFollowing(),
      ),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private heads(): Promise<number[]> {
    return Promise.all(
      this.system.names.map((name) => this.applications[name]!.notificationLog.maxNotificationId()),
    );
  }

  /** True when every follower has tracked its upstreams' notifications up to these heads. */
  private async quiet(heads: readonly number[]): Promise<boolean> {
    for (const name of this.system.followers) {
      const app = this.applications[name] as ProcessApplication<any>;
      for (const upstream of this.system.follows(name)) {
        const head = heads[this.system.names.indexOf(upstream)]!;
        if ((await app.processedUpTo(upstream)) < head) return false;
      }
    }
    return true;
  }
}
