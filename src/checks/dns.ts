/**
 * `dns` check: one query to one server (UDP, then TCP when the answer is truncated). Online when it
 * answers with at least one record and, with `expect`, one answer's zone-file line contains it.
 * Lines are written the way the original (miekg/dns) printed them, so `expect` strings keep matching.
 */
import { createSocket } from 'node:dgram';
import { getServers } from 'node:dns';
import { connect, isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import * as packet from 'dns-packet';
import { lookupBudgetMs, ParamError, resolverOf, type CheckContext, type CheckResult, type CheckType, type ParamSpec } from './types';
import { errorText, object, optionalString, requiredString, since, splitHostPort, type HostPort } from './params';

/** The types the original accepted, by their lower-case name. */
const TYPES: Record<string, string> = {
  a: 'A', aaaa: 'AAAA', ns: 'NS', soa: 'SOA', ptr: 'PTR', mx: 'MX', txt: 'TXT', srv: 'SRV', spf: 'SPF',
};
/** One deadline for server lookup, the UDP query and a TCP retry together. */
const TIMEOUT_MS = 5_000;
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export interface DnsParams {
  name: string;
  /** Upper-case record type, e.g. `MX`. */
  type: string;
  /** From the check, or null to use `[dns] server` (then the system resolver). */
  server: HostPort | null;
  expect: string;
}

function parse(data: unknown): DnsParams {
  const o = object(data);
  const name = requiredString(o, 'name');
  const typeText = requiredString(o, 'type');
  const type = TYPES[typeText.toLowerCase()];
  if (!type) throw new ParamError(`invalid record type: ${typeText} (one of ${Object.keys(TYPES).join(', ')})`);
  const serverText = optionalString(o, 'server');
  return { name, type, server: serverText ? hostPort(serverText, 'parameter "server"') : null, expect: optionalString(o, 'expect') };
}

function hostPort(text: string, what: string): HostPort {
  try {
    return splitHostPort(text.trim(), 53);
  } catch (err) {
    throw new ParamError(`invalid ${what}: ${(err as Error).message}`);
  }
}

/** The check's server, else `[dns] server`, else the first resolver of this host (the original used :53). */
function chooseServer(p: DnsParams, ctx: CheckContext): HostPort {
  if (p.server) return p.server;
  if (ctx.dnsServer) return hostPort(ctx.dnsServer, '[dns] server');
  const system = getServers()[0];
  if (!system) throw new Error('no DNS server: set "server" in the check or [dns] server in the config');
  return hostPort(system, 'system resolver');
}

// ---- wire -----------------------------------------------------------------------------------------

type Decoded = packet.DecodedPacket;

function query(name: string, type: string): packet.Packet {
  const question = { name: name.replace(/\.$/, ''), type: type as packet.RecordType, class: 'IN' as const };
  return { type: 'query', id: randomInt(0, 65536), flags: packet.RECURSION_DESIRED, questions: [question] };
}

/** A reply is ours when its ID and question match (stray or spoofed datagrams are ignored). */
function isReply(reply: Decoded, id: number, name: string): boolean {
  const q = reply.questions?.[0];
  return reply.id === id && reply.flag_qr && (!q || q.name.toLowerCase() === name.replace(/\.$/, '').toLowerCase());
}

type Finish = (err: Error | null, reply?: Decoded) => void;

/** One query/answer exchange: settles once (answer, error or abort), then closes its socket. */
function exchange(signal: AbortSignal, close: () => void, run: (finish: Finish) => void): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish: Finish = (err, reply) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      close();
      if (err) reject(err);
      else resolve(reply as Decoded);
    };
    const onAbort = () => finish(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    run(finish);
  });
}

function overUdp(server: HostPort, msg: packet.Packet, name: string, signal: AbortSignal): Promise<Decoded> {
  const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
  return exchange(signal, () => socket.close(), (finish) => {
    socket.on('error', (err) => finish(err));
    socket.on('message', (buf) => {
      try {
        const reply = packet.decode(buf);
        if (isReply(reply, msg.id as number, name)) finish(null, reply);
      } catch {
        // An undecodable datagram is not our answer; keep waiting until the deadline.
      }
    });
    // connect() makes the kernel drop datagrams from any other address.
    socket.connect(server.port, server.host, () => socket.send(packet.encode(msg)));
  });
}

function overTcp(server: HostPort, msg: packet.Packet, name: string, signal: AbortSignal): Promise<Decoded> {
  const socket = connect({ host: server.host, port: server.port });
  let buffered = Buffer.alloc(0);
  return exchange(signal, () => socket.destroy(), (finish) => {
    socket.on('error', (err) => finish(err));
    socket.on('connect', () => socket.write(packet.streamEncode(msg)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      try {
        const reply = packet.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        finish(isReply(reply, msg.id as number, name) ? null : new Error('TCP answer does not match the query'), reply);
      } catch (err) {
        finish(new Error(`undecodable TCP answer: ${errorText(err)}`));
      }
    });
    socket.on('end', () => finish(new Error('connection closed before a full answer')));
  });
}

// ---- text -----------------------------------------------------------------------------------------

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** One character-string, quoted and escaped like miekg/dns. */
function quoted(buf: Buffer): string {
  let out = '"';
  for (const b of buf) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) out += `\\${b.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

/** TXT/SPF rdata as raw bytes: a sequence of length-prefixed character-strings. */
function characterStrings(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < raw.length; i += 1 + raw[i]) out.push(raw.subarray(i + 1, i + 1 + raw[i]));
  return out;
}

function rdata(a: packet.Answer): string {
  const data: unknown = 'data' in a ? a.data : undefined;
  switch (a.type) {
    case 'A': case 'AAAA': return String(data);
    case 'NS': case 'PTR': case 'CNAME': case 'DNAME': return fqdn(String(data));
    case 'MX': return `${a.data.preference ?? 0} ${fqdn(a.data.exchange)}`;
    case 'SRV': return `${a.data.priority ?? 0} ${a.data.weight ?? 0} ${a.data.port} ${fqdn(a.data.target)}`;
    case 'SOA': {
      const s = a.data;
      return `${fqdn(s.mname)} ${fqdn(s.rname)} ${s.serial ?? 0} ${s.refresh ?? 0} ${s.retry ?? 0} ${s.expire ?? 0} ${s.minimum ?? 0}`;
    }
    case 'TXT': {
      const parts = Array.isArray(a.data) ? a.data : [a.data];
      return parts.map((t) => quoted(Buffer.from(t))).join(' ');
    }
  }
  // SPF comes back as raw bytes (dns-packet has no codec for it); other types only in odd answers.
  if ((a.type as string) === 'SPF' && Buffer.isBuffer(data)) return characterStrings(data).map(quoted).join(' ');
  if (Buffer.isBuffer(data)) return `\\# ${data.length} ${data.toString('hex')}`;
  return JSON.stringify(data);
}

/** `name. TTL CLASS TYPE data`, tab-separated as miekg/dns prints a record. */
export function zoneLine(a: packet.Answer): string {
  const ttl = 'ttl' in a ? (a.ttl ?? 0) : 0;
  const cls = 'class' in a ? (a.class ?? 'IN') : 'IN';
  return [fqdn(a.name), ttl, cls, a.type, rdata(a)].join('\t');
}

// ---- check ----------------------------------------------------------------------------------------

/** A server given by name is resolved off libuv's thread pool (see net/resolver.ts). */
async function resolveServer(server: HostPort, ctx: CheckContext): Promise<HostPort> {
  if (isIP(server.host)) return server;
  const [{ address }] = await resolverOf(ctx).lookup(server.host, { timeoutMs: lookupBudgetMs(TIMEOUT_MS) });
  return { host: address, port: server.port };
}

async function run(p: DnsParams, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const facts: Record<string, unknown> = { query: `${p.name} ${p.type}` };
  const done = (online: boolean, message: string): CheckResult => ({
    status: online ? 'online' : 'offline', message, durationMs: since(t0), facts,
  });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  let reply: Decoded;
  try {
    const chosen = chooseServer(p, ctx);
    facts.server = `${chosen.host}:${chosen.port}`;
    const abort = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)));
    const server = await Promise.race([resolveServer(chosen, ctx), abort]);
    const wire = query(p.name, p.type);
    reply = await overUdp(server, wire, p.name, controller.signal);
    facts.transport = 'udp';
    if (reply.flag_tc) {
      reply = await overTcp(server, wire, p.name, controller.signal);
      facts.transport = 'tcp';
    }
  } catch (err) {
    return done(false, `query failed: ${errorText(controller.signal.aborted ? controller.signal.reason : err)}`);
  } finally {
    clearTimeout(timer);
  }
  const rcode = RCODES[(reply.flags ?? 0) & 0xf] ?? `RCODE_${(reply.flags ?? 0) & 0xf}`;
  const answers = (reply.answers ?? []).map(zoneLine);
  Object.assign(facts, { rcode, answers });
  if (answers.length === 0) return done(false, `query returned no results${rcode === 'NOERROR' ? '' : ` (${rcode})`}`);
  if (p.expect && !answers.some((line) => line.includes(p.expect))) {
    return done(false, `query answer does not contain expected string (answer is ${answers[0]}, expected ${p.expect})`);
  }
  return done(true, `${answers.length} answer${answers.length === 1 ? '' : 's'}: ${answers[0]}`);
}

/** The parameters `parse` reads (flags of `gobearmon check add dns`). */
export const PARAMS: readonly ParamSpec[] = [
  { key: 'name', kind: 'string', required: true, help: 'name to look up' },
  { key: 'type', kind: 'string', required: true, help: 'a, aaaa, ns, soa, ptr, mx, txt, srv or spf' },
  { key: 'server', kind: 'string', help: 'resolver host or host:port' },
  { key: 'expect', kind: 'string', help: 'text one answer must contain' },
];

export const dnsCheck: CheckType<DnsParams> = { name: 'dns', params: PARAMS, parse, run, deadlineMs: () => TIMEOUT_MS };
