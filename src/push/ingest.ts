/**
 * PingIngest: the one way pings enter the store, whoever received them (the HTTP listener, the
 * AMQP consumer, `watch --push`). It resolves each ping's check (token or name) from an in-memory
 * index of push checks, then writes it through a group commit; `record` resolves only once the
 * pings are durable.
 */
import { GroupCommit } from '../util/group-commit';
import type { Logger } from '../util/log';
import { TOKEN_PATTERN } from './params';
import type { PingKind } from './rules';
import type { BatchOutcome, PushCheckRow, PushStore, ResolvedPing } from './store';

export interface PingRequest {
  /** By token, or by name (created with `create.periodS` when missing, raising `new`). */
  target: { token: string } | { name: string; create?: { periodS: number } | null };
  kind: PingKind;
  exitStatus?: number | null;
  rid?: string | null;
  /** The ping's text, already cut to the kept size. */
  body?: string;
  /** Which route or source it came by (ping, heartbeats, kuma, mesh, amqp…), for the record. */
  route: string;
  remote?: string;
  /** When it was received; defaults to now by the ingest's clock. */
  at?: number;
}

export type PingResult = { status: 200 | 201; checkId: number } | { status: 404; reason: string };

/** Tokens and names of push checks, rebuilt from the store (a token's lowest check id wins). */
class CheckIndex {
  byToken = new Map<string, number>();
  byName = new Map<string, number>();
  private tokenOf = new Map<number, { data: string; token: string | null }>();

  rebuild(rows: PushCheckRow[]): void {
    const byToken = new Map<string, number>();
    const byName = new Map<string, number>();
    const tokenOf = new Map<number, { data: string; token: string | null }>();
    for (const row of rows) {
      let entry = this.tokenOf.get(row.id);
      if (!entry || entry.data !== row.data) entry = { data: row.data, token: tokenIn(row.data) };
      tokenOf.set(row.id, entry);
      if (entry.token && !byToken.has(entry.token)) byToken.set(entry.token, row.id);
      if (!byName.has(row.name)) byName.set(row.name, row.id);
    }
    this.byToken = byToken;
    this.byName = byName;
    this.tokenOf = tokenOf;
  }
}

function tokenIn(data: string): string | null {
  try {
    const token = (JSON.parse(data) as { token?: unknown })?.token;
    return typeof token === 'string' && TOKEN_PATTERN.test(token) ? token : null;
  } catch {
    return null;
  }
}

export interface PingIngestOptions {
  store: PushStore;
  /** This node's name, kept with each ping. */
  node: string;
  log: Logger;
  clock?: () => number;
  /** How often the index of push checks is re-read (ms). */
  reloadIntervalMs?: number;
  /** Largest batch one transaction carries. */
  maxBatch?: number;
}

/** An unknown token or name re-reads the index at most this often (a flood of bad tokens costs little). */
const MISS_RELOAD_MS = 1_000;

export class PingIngest {
  private readonly index = new CheckIndex();
  private readonly commit: GroupCommit<ResolvedPing, BatchOutcome>;
  private readonly clock: () => number;
  private loading: Promise<void> | null = null;
  private loadedAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  /** Pings made durable by this ingest, and transactions used for them (group commit's gain). */
  readonly counters = { pings: 0, batches: 0 };

  constructor(private readonly opts: PingIngestOptions) {
    this.clock = opts.clock ?? Date.now;
    this.commit = new GroupCommit(async (batch) => {
      const out = await opts.store.writeBatch(batch, this.clock());
      this.counters.pings += batch.length;
      this.counters.batches++;
      return out;
    }, opts.maxBatch ?? 1000);
  }

  /** Loads the index now and keeps it fresh. */
  async start(): Promise<void> {
    await this.reload();
    const tick = () => {
      this.timer = setTimeout(() => void this.reload().catch((err: Error) => {
        this.opts.log.warn({ event: 'push_index_error', err: err.message }, 'could not re-read push checks');
      }).finally(tick), this.opts.reloadIntervalMs ?? 10_000);
      this.timer.unref();
    };
    tick();
  }

  reload(): Promise<void> {
    this.loading ??= this.opts.store.loadChecks().then((rows) => {
      this.index.rebuild(rows);
      this.loadedAt = this.clock();
    }).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private lookup(target: PingRequest['target']): number | undefined {
    return 'token' in target ? this.index.byToken.get(target.token) : this.index.byName.get(target.name);
  }

  /** Records pings durably; one result per ping, in order. Throws when the store cannot take them. */
  async record(pings: PingRequest[]): Promise<PingResult[]> {
    const now = this.clock();
    if (pings.some((p) => this.lookup(p.target) === undefined && !('name' in p.target && p.target.create)) && this.clock() - this.loadedAt >= MISS_RELOAD_MS) {
      await this.reload();
    }
    return Promise.all(pings.map(async (p): Promise<PingResult> => {
      const id = this.lookup(p.target) ?? null;
      if (id === null && !('name' in p.target && p.target.create)) {
        return { status: 404, reason: 'token' in p.target ? 'no push check has this token' : 'no push check has this name' };
      }
      const out = await this.commit.submit({
        checkId: id, name: 'name' in p.target ? p.target.name : undefined,
        createPeriodS: 'name' in p.target ? p.target.create?.periodS ?? null : null,
        kind: p.kind, exitStatus: p.exitStatus ?? null, rid: p.rid ?? null, body: p.body ?? '', at: p.at ?? now,
        node: this.opts.node, remote: p.remote ?? '', route: p.route,
      });
      if (out.checkId === null) return { status: 404, reason: 'no push check has this name' };
      if (out.created) this.index.byName.set(p.target && 'name' in p.target ? p.target.name : '', out.checkId);
      return { status: out.created ? 201 : 200, checkId: out.checkId };
    }));
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    while (this.commit.busy) await new Promise((r) => setTimeout(r, 10));
    await this.loading?.catch(() => undefined);
  }
}
