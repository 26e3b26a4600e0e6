/**
 * What the demo's checks look at, all served by the demo process itself on 127.0.0.1 free ports:
 * an HTTP server (/healthy, and /flappy that fails every other period), a TCP echo port, a DNS
 * server answering one A record, a TLS port whose certificate expires in a few days, and the
 * webhook sink that receives the cluster's alerts.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import * as packet from 'dns-packet';
import { selfSignedCert } from './cert';

export const HOST = '127.0.0.1';
export const DNS_NAME = 'demo.gobearmon.test';
export const DNS_ANSWER = '127.0.0.1';
export const WEBHOOK_PATH = '/gobearmon-demo-alert';
export const CERT_DAYS = 5;

/** The form fields of one alert, as the `http` contact posts them. */
export type AlertForm = Record<string, string>;

export interface TargetOptions {
  flapSeconds: number;
  /** The flappy endpoint changed: `up` is true when it answers 200 again. */
  onFlap(up: boolean): void;
  onAlert(form: AlertForm): void;
}

export interface Targets {
  httpPort: number;
  tcpPort: number;
  dnsPort: number;
  /** TCP on the DNS port too when that port was free for TCP (truncated answers retry over TCP). */
  dnsTcp: boolean;
  tlsPort: number;
  webhookPort: number;
  certNotAfter: Date;
  flappyUp(): boolean;
  close(): Promise<void>;
}

type Closable = { close(cb?: (err?: Error) => void): unknown };

function portOf(server: { address(): AddressInfo | string | null }): number {
  const a = server.address();
  if (!a || typeof a === 'string') throw new Error('server has no TCP/UDP address');
  return a.port;
}

function listen<T extends TcpServer | HttpServer | TlsServer>(server: T, port = 0): Promise<T> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeOne(s: Closable): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** Sockets a server accepted, so close() does not wait for idle keep-alive connections. */
function tracked<T extends TcpServer>(server: T): T & { destroyAll(): void } {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined); // checks hang up abruptly by design
    s.on('close', () => sockets.delete(s));
  });
  return Object.assign(server, { destroyAll: () => sockets.forEach((s) => s.destroy()) });
}

function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > limit) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

// ---- DNS --------------------------------------------------------------------------------------------

/** The answer to one query: an A record for DNS_NAME, an empty NOERROR for its other types, else NXDOMAIN. */
export function dnsAnswer(query: packet.DecodedPacket): Buffer {
  const q = query.questions?.[0];
  const ours = q !== undefined && q.name.toLowerCase().replace(/\.$/, '') === DNS_NAME;
  const answers: packet.Answer[] = ours && q.type === 'A' ? [{ name: q.name, type: 'A', class: 'IN', ttl: 60, data: DNS_ANSWER }] : [];
  const NXDOMAIN = 3;
  const flags = packet.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & packet.RECURSION_DESIRED) | (ours ? 0 : NXDOMAIN);
  return packet.encode({ type: 'response', id: query.id, flags, questions: query.questions, answers });
}

function udpDns(): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.on('message', (msg, rinfo) => {
      try {
        socket.send(dnsAnswer(packet.decode(msg)), rinfo.port, rinfo.address);
      } catch {
        // not a DNS query: drop it
      }
    });
    socket.bind(0, HOST, () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

function tcpDns(port: number): Promise<TcpServer | null> {
  const server = tracked(createTcpServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const size = buffered.readUInt16BE(0);
        const msg = buffered.subarray(2, 2 + size);
        buffered = buffered.subarray(2 + size);
        try {
          const answer = dnsAnswer(packet.decode(msg));
          const len = Buffer.alloc(2);
          len.writeUInt16BE(answer.length);
          socket.write(Buffer.concat([len, answer]));
        } catch {
          socket.destroy();
          return;
        }
      }
    });
  }));
  return listen(server, port).catch(() => null); // the port may be taken for TCP: UDP is what checks use
}

// ---- all of them -------------------------------------------------------------------------------------

export async function startTargets(opts: TargetOptions): Promise<Targets> {
  const started: Closable[] = [];
  const destroyers: (() => void)[] = [];
  let up = true;
  const flapTimer = setInterval(() => {
    up = !up;
    opts.onFlap(up);
  }, opts.flapSeconds * 1000);

  const close = async () => {
    clearInterval(flapTimer);
    destroyers.forEach((d) => d());
    await Promise.all(started.map(closeOne));
  };

  try {
    const http = tracked(createHttpServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthy' || (path === '/flappy' && up)) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/flappy') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('flapping: down for now\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('the demo serves /healthy and /flappy\n');
      }
    }));
    started.push(await listen(http));
    destroyers.push(() => http.destroyAll());

    const webhook = tracked(createHttpServer((req, res) => {
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== WEBHOOK_PATH) {
        res.writeHead(404).end();
        return;
      }
      readBody(req).then(
        (body) => {
          opts.onAlert(Object.fromEntries(new URLSearchParams(body)));
          res.writeHead(200, { 'content-type': 'text/plain' }).end('received\n');
        },
        () => res.writeHead(400).end(),
      );
    }));
    started.push(await listen(webhook));
    destroyers.push(() => webhook.destroyAll());

    const echo = tracked(createTcpServer((socket) => socket.pipe(socket)));
    started.push(await listen(echo));
    destroyers.push(() => echo.destroyAll());

    const dnsUdp = await udpDns();
    started.push(dnsUdp);
    const dnsPort = portOf(dnsUdp);
    const dnsTcpServer = await tcpDns(dnsPort);
    if (dnsTcpServer) started.push(dnsTcpServer);

    // An hour over whole days, so the check reads exactly CERT_DAYS days left for the next hour.
    const { key, cert, notAfter: certNotAfter } = selfSignedCert(DNS_NAME, new Date(Date.now() + CERT_DAYS * 86_400_000 + 3_600_000));
    const tlsServer = tracked(createTlsServer({ key, cert }, (socket) => socket.end()));
    tlsServer.on('tlsClientError', () => undefined);
    started.push(await listen(tlsServer));
    destroyers.push(() => tlsServer.destroyAll());

    return {
      httpPort: portOf(http),
      tcpPort: portOf(echo),
      dnsPort,
      dnsTcp: dnsTcpServer !== null,
      tlsPort: portOf(tlsServer),
      webhookPort: portOf(webhook),
      certNotAfter,
      flappyUp: () => up,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * `n` distinct free TCP ports on 127.0.0.1 for child processes to listen on. They are held open
 * together so that no two are the same, then released for the children a moment later.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => listen(createTcpServer())));
  const ports = servers.map(portOf);
  await Promise.all(servers.map(closeOne));
  return ports;
}
