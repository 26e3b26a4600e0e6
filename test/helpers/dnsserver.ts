/**
 * A tiny authoritative DNS server on 127.0.0.1 for tests, over UDP and TCP on one port (dns-packet).
 * Names in `truncated` get an empty answer with the TC flag over UDP, so a client must retry over TCP.
 * Unknown names get NXDOMAIN; a known name without records of the asked type gets an empty NOERROR.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as packet from 'dns-packet';

export interface TestDnsServer {
  /** `127.0.0.1:PORT` */
  address: string;
  port: number;
  /** Every question received, as `transport name TYPE`. */
  queries: string[];
  close(): Promise<void>;
}

export interface DnsZone {
  /** Records by lower-case name (without trailing dot). */
  records: packet.Answer[];
  /** Names whose UDP answers are truncated. */
  truncated?: string[];
  /** Names never answered (to exercise the client's timeout). */
  silent?: string[];
}

function answer(zone: DnsZone, query: packet.DecodedPacket, overTcp: boolean): Buffer | null {
  const q = query.questions?.[0];
  const name = (q?.name ?? '').toLowerCase();
  if (zone.silent?.includes(name)) return null;
  const known = zone.records.filter((r) => r.name.toLowerCase() === name);
  const matching = known.filter((r) => r.type === q?.type || r.type === 'CNAME');
  const truncate = !overTcp && (zone.truncated ?? []).includes(name);
  let flags = packet.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & packet.RECURSION_DESIRED);
  if (truncate) flags |= packet.TRUNCATED_RESPONSE;
  if (known.length === 0) flags |= 3; // NXDOMAIN
  return packet.encode({
    type: 'response',
    id: query.id,
    flags,
    questions: query.questions,
    answers: truncate ? [] : matching,
  });
}

async function bindBoth(): Promise<{ udp: UdpSocket; tcp: Server }> {
  // The TCP port is taken first, then UDP on the same number; retried if UDP happens to be busy.
  for (let attempt = 0; ; attempt++) {
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as AddressInfo).port;
    const udp = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, '127.0.0.1', () => resolve());
      });
      return { udp, tcp };
    } catch (err) {
      udp.close();
      await new Promise((resolve) => tcp.close(resolve));
      if (attempt >= 10) throw err;
    }
  }
}

export async function startDnsServer(zone: DnsZone): Promise<TestDnsServer> {
  const { udp, tcp } = await bindBoth();
  const queries: string[] = [];
  const sockets = new Set<Socket>();
  const log = (transport: string, q: packet.DecodedPacket) => {
    for (const question of q.questions ?? []) queries.push(`${transport} ${question.name} ${question.type}`);
  };
  udp.on('message', (msg, rinfo) => {
    const query = packet.decode(msg);
    log('udp', query);
    const reply = answer(zone, query, false);
    if (reply) udp.send(reply, rinfo.port, rinfo.address);
  });
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const len = buffered.readUInt16BE(0);
        const query = packet.decode(buffered.subarray(2, 2 + len));
        buffered = buffered.subarray(2 + len);
        log('tcp', query);
        const reply = answer(zone, query, true);
        if (reply) socket.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]));
      }
    });
  });
  const port = (tcp.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    queries,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise((resolve) => tcp.close(resolve)), new Promise<void>((resolve) => udp.close(() => resolve()))]);
    },
  };
}
