/**
 * Is a signed request meant for this node? The signature covers the address the sender dialed;
 * it names this node when it is the configured address, or when its port is the one the request
 * arrived on and its host is the local address it arrived at (an IP, this host's name, or a name
 * resolving to it). A request captured on its way to another node therefore names another node.
 */
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import type { HostResolver } from '../net/resolver';

const NAME_TTL_MS = 60_000;
const LOOKUP_MS = 2_000;

function normalize(address: string | undefined): string {
  const a = (address ?? '').replace(/^\[|\]$/g, '').toLowerCase();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

function split(addr: string): { host: string; port: number } | null {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(addr);
  return m ? { host: normalize(m[1]), port: Number(m[2]) } : null;
}

export class RecipientCheck {
  private readonly names = new Map<string, { addresses: string[]; until: number }>();

  constructor(
    /** The node's configured listen address (`host:port`), when it has a host. */
    private readonly self: string | undefined,
    private readonly resolver: HostResolver,
    private readonly clock: () => number,
    private readonly host = hostname().toLowerCase(),
  ) {}

  async matches(to: string | undefined, local: { address?: string; port?: number }): Promise<boolean> {
    if (!to) return false;
    if (this.self && to === this.self) return true;
    const target = split(to);
    if (!target || local.port === undefined || target.port !== local.port) return false;
    const here = normalize(local.address);
    if (isIP(target.host)) return target.host === here;
    if (target.host === this.host) return true;
    return (await this.addressesOf(target.host, isIP(here) === 6 ? 6 : 4)).includes(here);
  }

  /** Only names from authenticated senders get here, so the cache cannot be flooded by strangers. */
  private async addressesOf(name: string, family: 4 | 6): Promise<string[]> {
    const key = `${family}/${name}`;
    const now = this.clock();
    const cached = this.names.get(key);
    if (cached && cached.until > now) return cached.addresses;
    let addresses: string[] = [];
    try {
      addresses = (await this.resolver.lookup(name, { family, timeoutMs: LOOKUP_MS })).map((a) => normalize(a.address));
    } catch {
      // unknown name: not ours
    }
    if (this.names.size > 1_000) this.names.clear();
    this.names.set(key, { addresses, until: now + NAME_TTL_MS });
    return addresses;
  }
}
