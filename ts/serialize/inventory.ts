/**
 * Which addresses are nodes, and whose. The inventory maps addresses or CIDR prefixes (IPv4, IPv6)
 * to a customer ID (SPEC §1). An exact address is a node even when it carries no traffic; an address
 * inside a prefix becomes a node the first time it appears in a flow (as source or destination).
 *
 * Overlapping entries are allowed: the longest prefix wins (a /32 inside a customer's /24 may belong
 * to another customer), and `stats()` counts them for the store's summary. The same prefix for two
 * customers (or two roles) is an error naming both lines.
 */
import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { StoreNode } from './store.js';
import { bigIntToIPv6, canonicalIPv6, formatIPv4, ipv6ToBigInt, parseCidr, parseIPv4 } from '../ingest/address.js';

interface Owner {
  customer: string;
  role?: string;
}

/** What the inventory holds, for the store's summary (manifest options.inventory). */
export interface InventoryStats {
  entries: number;
  /** Entries lying inside a shorter entry (the longer one wins for its addresses). */
  overlapping: number;
  /** The first few of them: the inner entry and the outer one it lies in, with where each was given. */
  overlaps: { inner: string; outer: string }[];
  /** Nodes whose address more than one entry covers (resolved to the longest). */
  nodesInOverlaps: number;
}

interface NodeInfo extends Owner {
  address: string;
  /** IPv4 as uint32, or -1 for IPv6. */
  v4: number;
  /** IPv6 value (for ordering), 0 for IPv4. */
  v6: bigint;
}

export class NodeRegistry {
  private readonly infos: NodeInfo[] = [];
  private readonly exact4 = new Map<number, number>();
  private readonly exact6 = new Map<string, number>();
  /** Prefix tables, longest prefix first: IPv4 keyed by masked network, IPv6 by masked words. */
  private prefixes4: { len: number; mask: number; nets: Map<number, Owner> }[] = [];
  private prefixes6: { len: number; shift: bigint; nets: Map<bigint, Owner> }[] = [];
  /** Every entry by family/network/length: its owner and where it was given. */
  private readonly entries = new Map<
    string,
    { owner: Owner; where: string; family: 4 | 6; network: number | bigint; len: number; text: string }
  >();

  get size(): number {
    return this.infos.length;
  }

  isEmpty(): boolean {
    return this.infos.length === 0 && this.prefixes4.length === 0 && this.prefixes6.length === 0;
  }

  /**
   * Adds an inventory entry: an address (a node now) or a prefix (its addresses become nodes when
   * seen). `where` names it in errors (`file:line`, or `--prefix X`). The same prefix given twice
   * with another customer or role is an error naming both places.
   */
  add(prefix: string, owner: Owner, where: string, field = 'prefix'): void {
    let cidr;
    try {
      cidr = parseCidr(prefix);
    } catch (e) {
      throw new Error(`${where}: field '${field}': ${(e as Error).message}`);
    }
    const len = cidr.prefixLength;
    const key = `${cidr.family}/${cidr.network}/${len}`;
    const known = this.entries.get(key);
    if (known) {
      if (known.owner.customer !== owner.customer || known.owner.role !== owner.role)
        throw new Error(
          `${where}: ${prefix} is given to customer '${owner.customer}'${owner.role ? ` (role ${owner.role})` : ''}, and at ${known.where} to customer '${known.owner.customer}'${known.owner.role ? ` (role ${known.owner.role})` : ''}: one prefix belongs to one customer; remove one of the two lines`,
        );
      return;
    }
    this.entries.set(key, { owner, where, family: cidr.family, network: cidr.network, len, text: prefix });
    if (cidr.family === 4) {
      if (len === 32) return void this.addNode4(cidr.network, owner);
      let t = this.prefixes4.find((p) => p.len === len);
      if (!t) {
        t = { len, mask: len === 0 ? 0 : (~0 << (32 - len)) >>> 0, nets: new Map() };
        this.prefixes4.push(t);
        this.prefixes4.sort((a, b) => b.len - a.len);
      }
      t.nets.set(cidr.network, owner);
    } else {
      if (len === 128) return void this.addNode6(cidr.network, owner);
      let t = this.prefixes6.find((p) => p.len === len);
      if (!t) {
        t = { len, shift: BigInt(128 - len), nets: new Map() };
        this.prefixes6.push(t);
        this.prefixes6.sort((a, b) => b.len - a.len);
      }
      t.nets.set(cidr.network >> t.shift, owner);
    }
  }

  /** Node (temporary id) of an IPv4 address, or -1. Hot path. */
  node4(a: number): number {
    const hit = this.exact4.get(a);
    if (hit !== undefined) return hit;
    for (let i = 0; i < this.prefixes4.length; i++) {
      const t = this.prefixes4[i];
      const owner = t.nets.get((a & t.mask) >>> 0);
      if (owner) return this.addNode4(a, owner);
    }
    return -1;
  }

  /** Node of an IPv6 address in canonical form, or -1. */
  node6(a: string): number {
    const hit = this.exact6.get(a);
    if (hit !== undefined) return hit;
    if (this.prefixes6.length === 0 || a === '') return -1;
    const v = ipv6ToBigInt(a);
    if (v === null) return -1;
    for (const t of this.prefixes6) {
      const owner = t.nets.get(v >> t.shift);
      if (owner) return this.addNode6(v, owner, a);
    }
    return -1;
  }

  private addNode4(a: number, owner: Owner): number {
    const known = this.exact4.get(a);
    if (known !== undefined) return known;
    const id = this.infos.length;
    this.infos.push({ ...owner, address: formatIPv4(a), v4: a, v6: 0n });
    this.exact4.set(a, id);
    return id;
  }

  private addNode6(v: bigint, owner: Owner, canonical?: string): number {
    const address = canonical ?? bigIntToIPv6(v);
    const known = this.exact6.get(address);
    if (known !== undefined) return known;
    const id = this.infos.length;
    this.infos.push({ ...owner, address, v4: -1, v6: v });
    this.exact6.set(address, id);
    return id;
  }

  /** The address of a node (an id of node4/node6): IPv4 as uint32 (v6 ''), or IPv6 canonical (v4 -1). */
  addressOf(id: number): { v4: number; v6: string } {
    const n = this.infos[id];
    return n.v4 >= 0 ? { v4: n.v4, v6: '' } : { v4: -1, v6: n.address };
  }

  /** The customer of a node (an id of node4/node6). */
  customerOf(id: number): string {
    return this.infos[id].customer;
  }

  /** Entries inside shorter ones, and nodes covered by more than one entry (longest prefix wins). */
  stats(): InventoryStats {
    const overlaps: { inner: string; outer: string }[] = [];
    let overlapping = 0;
    const outerOf4 = (a: number, below: number): string | null => {
      for (const t of this.prefixes4) {
        if (t.len >= below) continue;
        const e = this.entries.get(`4/${(a & t.mask) >>> 0}/${t.len}`);
        if (e) return `${e.text} (${e.where})`;
      }
      return null;
    };
    const outerOf6 = (v: bigint, below: number): string | null => {
      for (const t of this.prefixes6) {
        if (t.len >= below) continue;
        const e = this.entries.get(`6/${(v >> t.shift) << t.shift}/${t.len}`);
        if (e) return `${e.text} (${e.where})`;
      }
      return null;
    };
    for (const e of this.entries.values()) {
      const outer = e.family === 4 ? outerOf4(e.network as number, e.len) : outerOf6(e.network as bigint, e.len);
      if (outer === null) continue;
      overlapping++;
      if (overlaps.length < 10) overlaps.push({ inner: `${e.text} (${e.where})`, outer });
    }
    let nodesInOverlaps = 0;
    for (const n of this.infos) {
      const own =
        n.v4 >= 0
          ? this.entries.has(`4/${n.v4}/32`)
            ? 32
            : this.matchLength4(n.v4)
          : this.entries.has(`6/${n.v6}/128`)
            ? 128
            : this.matchLength6(n.v6);
      if ((n.v4 >= 0 ? outerOf4(n.v4, own) : outerOf6(n.v6, own)) !== null) nodesInOverlaps++;
    }
    return { entries: this.entries.size, overlapping, overlaps, nodesInOverlaps };
  }

  private matchLength4(a: number): number {
    for (const t of this.prefixes4) if (t.nets.has((a & t.mask) >>> 0)) return t.len;
    return 33;
  }

  private matchLength6(v: bigint): number {
    for (const t of this.prefixes6) if (t.nets.has(v >> t.shift)) return t.len;
    return 129;
  }

  /** Store order (IPv4 before IPv6, each ascending by address) and the store's node list. */
  finalOrder(): { order: number[]; nodes: StoreNode[] } {
    const order = this.infos.map((_, i) => i);
    order.sort((x, y) => compareNodes(this.infos[x], this.infos[y]));
    const nodes = order.map((temp, id) => {
      const n = this.infos[temp];
      return n.role !== undefined
        ? { id, address: n.address, customer: n.customer, role: n.role }
        : { id, address: n.address, customer: n.customer };
    });
    return { order, nodes };
  }
}

function compareNodes(a: NodeInfo, b: NodeInfo): number {
  if (a.v4 >= 0 && b.v4 >= 0) return a.v4 - b.v4;
  if (a.v4 >= 0) return -1;
  if (b.v4 >= 0) return 1;
  return a.v6 < b.v6 ? -1 : a.v6 > b.v6 ? 1 : 0;
}

/** The form nodes are stored under: dotted quad for IPv4, RFC 5952 for IPv6; null if not an address. */
export function canonicalAddress(text: string): string | null {
  const t = text.trim();
  if (t.includes(':')) return canonicalIPv6(t);
  const v = parseIPv4(t);
  return v < 0 ? null : formatIPv4(v);
}

/** Names the first column may have: users write `address`, `ip` or `cidr` as well. */
export const PREFIX_HEADERS = ['prefix', 'address', 'ip', 'cidr'];

/** Reads an inventory CSV (`prefix,customer[,role]`, header required, `#` comments) into the registry. */
export async function loadInventory(path: string, registry: NodeRegistry): Promise<number> {
  try {
    await access(path, constants.R_OK);
  } catch (e) {
    throw new Error(
      `${path}: cannot read the node inventory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let lineNo = 0;
  let cols: { prefix: number; customer: number; role: number } | null = null;
  let prefixName = 'prefix';
  let entries = 0;
  for await (const raw of rl) {
    lineNo++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',').map((f) => f.trim());
    if (!cols) {
      const names = fields.map((f) => f.toLowerCase());
      const prefix = names.findIndex((n) => PREFIX_HEADERS.includes(n));
      const customer = names.indexOf('customer');
      if (prefix < 0 || customer < 0)
        throw new Error(
          `${path}:${lineNo}: inventory header must name the columns 'prefix' (or ${PREFIX_HEADERS.slice(1)
            .map((h) => `'${h}'`)
            .join(', ')}) and 'customer' (optional 'role'), got '${line}'`,
        );
      cols = { prefix, customer, role: names.indexOf('role') };
      prefixName = fields[prefix];
      continue;
    }
    const where = `${path}:${lineNo}`;
    const prefix = fields[cols.prefix];
    const customer = fields[cols.customer];
    if (!prefix) throw new Error(`${where}: empty field 'prefix'`);
    if (!customer) throw new Error(`${where}: empty field 'customer'`);
    const role = cols.role >= 0 && fields[cols.role] ? fields[cols.role] : undefined;
    registry.add(prefix, role !== undefined ? { customer, role } : { customer }, where, prefixName);
    entries++;
  }
  if (!cols) throw new Error(`${path}: empty inventory (expected a header 'prefix,customer[,role]')`);
  return entries;
}

/** `--prefix CIDR[=CUSTOMER]` options; the customer defaults to the prefix itself. */
export function parsePrefixOptions(specs: string[], registry: NodeRegistry): void {
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const prefix = eq < 0 ? spec : spec.slice(0, eq);
    const customer = eq < 0 ? prefix : spec.slice(eq + 1);
    registry.add(prefix.trim(), { customer: customer.trim() }, `--prefix ${spec}`, '--prefix');
  }
}
