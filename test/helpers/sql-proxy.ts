/**
 * A MySQL-aware TCP proxy for chaos tests of the store's fault paths. Put it between a node and
 * MariaDB (`proxy.dsn(dbName)`), then break things from the test:
 * - `hold(conn)` / `holdAll()`: stop forwarding (both ways, bytes kept) until `release…()`: a frozen
 *   or partitioned client whose server-side transaction stays open;
 * - `holdAfter(/FOR UPDATE/)`: hold the connection that ran (queried or executed, not just prepared)
 *   a matching statement as soon as it sends its next one (its reply got through first);
 * - `drop(conn)` / `dropAll()`: reset connections (the server sees them vanish); a held connection whose
 *   client dies (kill -9) stays open towards the server, as across a partition;
 * - `blackhole = true`: accept new connections and never forward nor answer them;
 * - `dropCommitAck()`: forward the next COMMIT to the server, swallow its OK and cut that connection:
 *   the COMMIT landed but the client cannot know.
 * The proxy frames MySQL packets (3-byte length, sequence id), so it sees each command's text:
 * COM_QUERY, COM_STMT_PREPARE, and COM_STMT_EXECUTE by the text its statement id was prepared from.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

const COM_QUERY = 0x03;
const COM_STMT_PREPARE = 0x16;
const COM_STMT_EXECUTE = 0x17;

/** Splits a byte stream into whole MySQL packets (header included). */
class PacketReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUIntLE(0, 3);
      if (this.buf.length < 4 + len) break;
      out.push(this.buf.subarray(0, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}

export interface ProxyConnection {
  readonly id: number;
  /** Text of every command the client sent, in order (executes by their prepared text). */
  readonly statements: string[];
  readonly held: boolean;
  readonly closed: boolean;
}

interface Link extends ProxyConnection {
  statements: string[];
  held: boolean;
  closed: boolean;
  client: Socket;
  server: Socket | null;
  /** Packets not yet forwarded because the link is held. */
  queued: { to: 'server' | 'client'; packet: Buffer }[];
  prepared: Map<number, string>;
  preparing: string | null;
  /** Hold before forwarding the next client command. */
  holdNext: boolean;
  /** The COMMIT went through: swallow the server's answer and cut. */
  swallowReply: boolean;
  /** Statements since the connection's last COMMIT or ROLLBACK. */
  sinceCommit: string[];
}

export class SqlProxy {
  /** New connections are accepted and then ignored (no bytes either way). */
  blackhole = false;
  private readonly links: Link[] = [];
  private nextId = 1;
  private holdRules: { pattern: RegExp; resolve: (c: ProxyConnection) => void }[] = [];
  private commitTrap: { within?: RegExp; resolve: (c: ProxyConnection) => void } | null = null;

  private constructor(private readonly server: Server, readonly port: number, readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number } = { host: '127.0.0.1', port: 3306 }): Promise<SqlProxy> {
    const holder: { proxy?: SqlProxy } = {};
    const server = createServer((client) => holder.proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new SqlProxy(server, (server.address() as AddressInfo).port, target);
    return holder.proxy;
  }

  /** A mysql:// DSN through the proxy (root, empty password, as test/helpers/db.ts). */
  dsn(database: string, user = 'root'): string {
    return `mysql://${user}@127.0.0.1:${this.port}/${database}`;
  }

  get connections(): ProxyConnection[] {
    return [...this.links];
  }

  /** Connections neither closed nor held. */
  get open(): ProxyConnection[] {
    return this.links.filter((l) => !l.closed);
  }

  hold(conn: ProxyConnection): void {
    (conn as Link).held = true;
  }

  release(conn: ProxyConnection): void {
    const link = conn as Link;
    link.held = false;
    link.holdNext = false;
    const queued = link.queued.splice(0);
    for (const q of queued) this.forward(link, q.to, q.packet);
  }

  drop(conn: ProxyConnection): void {
    const link = conn as Link;
    link.closed = true;
    link.client.destroy();
    link.server?.destroy();
  }

  holdAll(): void {
    for (const l of this.links) if (!l.closed) this.hold(l);
  }

  releaseAll(): void {
    for (const l of this.links) if (!l.closed) this.release(l);
  }

  dropAll(): void {
    for (const l of this.links) if (!l.closed) this.drop(l);
  }

  /** Resolves with the first connection to run a statement matching `pattern`, held before its next command. */
  holdAfter(pattern: RegExp): Promise<ProxyConnection> {
    return new Promise((resolve) => this.holdRules.push({ pattern, resolve }));
  }

  /**
   * Resolves with the connection whose COMMIT reached the server and whose OK was then swallowed.
   * With `within`, only the COMMIT of a transaction that ran a statement matching it is trapped.
   */
  dropCommitAck(within?: RegExp): Promise<ProxyConnection> {
    return new Promise((resolve) => (this.commitTrap = { within, resolve }));
  }

  async close(): Promise<void> {
    // Every socket, also the server side of a held link whose client died (kept open as a partition
    // would): a socket left open keeps the test process alive after its last test.
    for (const l of this.links) this.drop(l);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const link: Link = {
      id: this.nextId++, statements: [], held: false, closed: false, client, server: null, queued: [],
      prepared: new Map(), preparing: null, holdNext: false, swallowReply: false, sinceCommit: [],
    };
    this.links.push(link);
    client.on('error', () => undefined);
    client.on('close', () => {
      link.closed = true;
      // A held link is a partition: the server does not hear that its client died, its session
      // (and any transaction and row lock) lives on until the server's own timeouts end it.
      if (!link.held) link.server?.destroy();
    });
    if (this.blackhole) return; // never forwarded, never answered; the client's own timeout decides
    const server = connect(this.target.port, this.target.host);
    link.server = server;
    server.on('error', () => client.destroy());
    server.on('close', () => {
      link.closed = true;
      client.destroy();
    });
    const fromClient = new PacketReader();
    const fromServer = new PacketReader();
    client.on('data', (chunk: Buffer) => {
      for (const packet of fromClient.push(chunk)) this.fromClient(link, packet);
    });
    server.on('data', (chunk: Buffer) => {
      for (const packet of fromServer.push(chunk)) this.fromServer(link, packet);
    });
  }

  private fromClient(link: Link, packet: Buffer): void {
    const seq = packet[3];
    const command = packet.length > 4 ? packet[4] : -1;
    // Commands start a sequence at 0; the handshake answer has sequence 1.
    const isCommand = seq === 0 && command >= 0;
    let text: string | null = null;
    if (isCommand && (command === COM_QUERY || command === COM_STMT_PREPARE)) text = packet.subarray(5).toString('utf8');
    if (isCommand && command === COM_STMT_EXECUTE && packet.length >= 9) text = link.prepared.get(packet.readUInt32LE(5)) ?? null;
    if (isCommand && link.holdNext) link.held = true;
    if (text !== null) {
      link.statements.push(text);
      if (command === COM_STMT_PREPARE) link.preparing = text;
      // A prepare runs nothing: only a query or an execute counts as having run the statement.
      const rule = command === COM_STMT_PREPARE ? undefined : this.holdRules.find((r) => r.pattern.test(text!));
      if (rule) {
        this.holdRules = this.holdRules.filter((r) => r !== rule);
        link.holdNext = true;
        rule.resolve(link);
      }
      const ending = command === COM_QUERY && /^\s*(COMMIT|ROLLBACK)\b/i.test(text);
      const trap = this.commitTrap;
      if (trap && ending && /^\s*COMMIT\b/i.test(text) && (!trap.within || link.sinceCommit.some((t) => trap.within!.test(t)))) {
        this.commitTrap = null;
        link.swallowReply = true;
        trap.resolve(link);
      }
      if (ending) link.sinceCommit = [];
      else link.sinceCommit.push(text);
    }
    this.forward(link, 'server', packet);
  }

  private fromServer(link: Link, packet: Buffer): void {
    if (link.preparing !== null && packet[3] === 1 && packet[4] === 0x00 && packet.length >= 9) {
      link.prepared.set(packet.readUInt32LE(5), link.preparing); // COM_STMT_PREPARE_OK: status 0, statement id
      link.preparing = null;
    }
    if (link.swallowReply) {
      this.drop(link);
      return;
    }
    this.forward(link, 'client', packet);
  }

  private forward(link: Link, to: 'server' | 'client', packet: Buffer): void {
    if (link.closed) return;
    if (link.held) {
      link.queued.push({ to, packet });
      return;
    }
    if (to === 'server') link.server?.write(packet);
    else link.client.write(packet);
  }
}
