/**
 * Which addresses are nodes, and whose. The inventory maps addresses or CIDR prefixes (IPv4, IPv6)
 * to a customer ID (SPEC §1). An exact address is a node even when it carries no traffic; an address
 * inside a prefix becomes a node the first time it appears in a flow (as source or destination).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { StoreNode } from './store.js';
import { bigIntToIPv6, canonicalIPv6, formatIPv4, ipv6ToBigInt, parseCidr, parseIPv4 } from '../ingest/address.js';

interface Owner {
  customer: string;
  role?: string;
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

  get size(): number {
    return this.infos.length;
  }

  isEmpty(): boolean {
    return this.infos.length === 0 && this.prefixes4.length === 0 && this.prefixes6.length === 0;
  }

  /** Adds an inventory entry: an address (a node now) or a prefix (its addresses become nodes when seen). */
  add(prefix: string, owner: Owner, where: string): void {
    let cidr;
    try {
      cidr = parseCidr(prefix);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    const len = cidr.prefixLength;
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

  /** Store order (IPv4 before IPv6, each ascending by address) and the store's node list. */
  finalOrder(): { order: number[]; nodes: StoreNode[] } {
    const order = this.infos.map((_, i) => i);
    order.sort((x, y) => compareNodes(this.infos[x], this.infos[y]));
    const nodes = order.map((temp, id) => {
      const n = this.infos[temp];
      return n.role !== undefined ? { id, address: n.address, customer: n.customer, role: n.role } : { id, address: n.address, customer: n.customer };
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

/** Reads an inventory CSV (`prefix,customer[,role]`, header required, `#` comments) into the registry. */
export async function loadInventory(path: string, registry: NodeRegistry): Promise<number> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let lineNo = 0;
  let cols: { prefix: number; customer: number; role: number } | null = null;
  let entries = 0;
  for await (const raw of rl) {
    lineNo++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',').map((f) => f.trim());
    if (!cols) {
      const names = fields.map((f) => f.toLowerCase());
      const prefix = names.indexOf('prefix');
      const customer = names.indexOf('customer');
      if (prefix < 0 || customer < 0) throw new Error(`${path}:${lineNo}: inventory header must name the columns 'prefix' and 'customer' (optional 'role'), got '${line}'`);
      cols = { prefix, customer, role: names.indexOf('role') };
      continue;
    }
    const where = `${path}:${lineNo}`;
    const prefix = fields[cols.prefix];
    const customer = fields[cols.customer];
    if (!prefix) throw new Error(`${where}: empty field 'prefix'`);
    if (!customer) throw new Error(`${where}: empty field 'customer'`);
    const role = cols.role >= 0 && fields[cols.role] ? fields[cols.role] : undefined;
    registry.add(prefix, role !== undefined ? { customer, role } : { customer }, `${where}: field 'prefix'`);
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
    registry.add(prefix.trim(), { customer: customer.trim() }, `--prefix ${spec}`);
  }
}

