/**
 * Customers and their nodes: who exists, in which role, how big, how quiet. A pure function of the
 * configuration and the seed.
 *
 * - Customers have a kind (hosting, enterprise, broadband, gaming) that sets the roles of their nodes;
 *   the first four customers take one kind each, so even a tiny run has every kind.
 * - Nodes per customer and node sizes are heavy-tailed (Pareto): a few customers and nodes carry most
 *   of the traffic, as in any ISP.
 * - Every role is present once there are at least as many nodes as roles.
 * - A share of the nodes have an IPv6 address; the rest IPv4 (see address.ts for the ranges).
 */
import { customerV4, customerV6, formatIPv4 } from './address.js';
import type { SynthConfig } from './config.js';
import { CUSTOMER_KINDS, ROLE_NAMES, ROLES, BACKGROUND, meanInBytes, type RoleName } from './roles.js';
import { Rng } from '../common/rng.js';

export interface SynthCustomer {
  index: number;
  id: string;
  kind: string;
  /** Hours from UTC of the customer's local time (drives the daily cycle). */
  tzOffset: number;
  nodes: number[];
}

export interface SynthNode {
  index: number;
  /** Canonical text of the address (as in nodes.csv and the flow files). */
  address: string;
  v6: boolean;
  customer: number;
  customerId: string;
  role: RoleName;
  /** Heavy-tailed size factor (Pareto, >= 1). */
  scale: number;
  /** Quiet nodes carry a few percent of their role's usual traffic. */
  quiet: boolean;
  /** Conversations per minute at average activity. */
  rate: number;
  /** Multiplies the packets of bulk flows. */
  pktScale: number;
  /** Cumulative weights of the role's short-conversation classes for this node (each node has its own mix; session classes weigh 0). */
  classCum: Float64Array;
  /** Mean concurrent sessions at activity 1 of each class (0 for short-conversation classes). */
  sessionTarget: Float64Array;
  /** The node's own service port (game servers, P2P clients). */
  servicePort: number;
  /** Heartbeat period in minutes (IoT), 0 for none, and its phase. */
  heartbeat: number;
  heartbeatPhase: number;
  /** Background radiation (scans, probes) in flows per minute. */
  background: number;
  /** How many distinct remote clients talk to it, and where they start in the peer pool. */
  clients: number;
  peerOffset: number;
  /** Expected incoming bytes per minute at activity 1 (for attack intensities). */
  meanInPerMinute: number;
}

export interface Inventory {
  customers: SynthCustomer[];
  nodes: SynthNode[];
}

/** Customers' time zones: a European ISP (its hosting customers' audiences may sit an hour or two away). */
const TZ_OFFSETS = [0, 1, 1, 1, 1, 2];

export function makeInventory(
  cfg: Pick<SynthConfig, 'seed' | 'customers' | 'nodes' | 'ipv6Share' | 'trafficScale'>,
): Inventory {
  const rng = Rng.derive(cfg.seed, 'inventory');

  // Customer kinds: one of each first (in a shuffled order), then by share.
  const kindOrder = rng.shuffle(CUSTOMER_KINDS.map((_, i) => i));
  const customers: SynthCustomer[] = [];
  for (let c = 0; c < cfg.customers; c++) {
    const kind = c < kindOrder.length ? kindOrder[c] : rng.weighted(CUSTOMER_KINDS.map((k) => k.share));
    customers.push({
      index: c,
      id: `C${String(c + 1).padStart(3, '0')}`,
      kind: CUSTOMER_KINDS[kind].name,
      tzOffset: rng.pick(TZ_OFFSETS),
      nodes: [],
    });
  }

  const counts = nodesPerCustomer(cfg.customers, cfg.nodes, rng);

  // Roles by customer kind.
  const roles: RoleName[] = [];
  const owner: number[] = [];
  for (let c = 0; c < cfg.customers; c++) {
    const kind = CUSTOMER_KINDS.find((k) => k.name === customers[c].kind)!;
    const names = Object.keys(kind.roles) as RoleName[];
    const weights = names.map((n) => kind.roles[n]!);
    for (let k = 0; k < counts[c]; k++) {
      roles.push(names[rng.weighted(weights)]);
      owner.push(c);
    }
  }
  ensureEveryRole(roles, rng);

  // Addresses: distinct host numbers within each customer.
  const hostPools = customers.map(() => rng.shuffle(Array.from({ length: 253 }, (_, i) => i + 2)));
  const used = new Array<number>(cfg.customers).fill(0);

  const nodes: SynthNode[] = [];
  for (let i = 0; i < roles.length; i++) {
    const c = owner[i];
    const role = ROLES[roles[i]];
    const host = hostPools[c][used[c]++];
    const v6 = rng.chance(cfg.ipv6Share);
    const address = v6 ? customerV6(c, host) : formatIPv4(customerV4(c, host));
    const scale = Math.min(60, rng.pareto(1, 1.2));
    const quiet = rng.chance(role.quietShare);
    const rate = role.rate * cfg.trafficScale * Math.sqrt(scale) * rng.lognormal(1, 0.25) * (quiet ? 0.04 : 1);
    const pktScale = Math.sqrt(scale);
    const servicePort = role.nodePorts ? rng.pick(role.nodePorts) : 0;

    // The node's own mix: the role's weights and session counts, jittered; a TCP game server (port 25565)
    // has TCP game sessions instead of UDP ones, and few server-browser queries.
    const jitter = role.classes.map(() => rng.lognormal(1, 0.35));
    const weights = role.classes.map((cl, k) => (cl.session ? 0 : cl.weight * jitter[k]));
    const sessionTarget = Float64Array.from(role.classes, (cl, k) =>
      cl.session ? rate * cl.session.concurrency * jitter[k] : 0,
    );
    if (role.name === 'game') {
      const w = (name: string) => role.classes.findIndex((cl) => cl.name === name);
      if (servicePort === 25565) {
        sessionTarget[w('game')] = 0;
        weights[w('query')] *= 0.2;
      } else {
        sessionTarget[w('game-tcp')] = 0;
      }
    }
    const classCum = new Float64Array(weights.length);
    let acc = 0;
    weights.forEach((w, k) => (classCum[k] = acc += w));

    const heartbeat = role.heartbeat ? rng.pick(role.heartbeat) : 0;
    const background = rng.lognormal(0.12, 0.6);
    const clients = Math.max(3, Math.min(20000, Math.round(25 * scale * rng.lognormal(1, 0.5))));
    const meanConv =
      acc > 0 ? role.classes.reduce((s, cl, k) => s + weights[k] * meanInBytes(cl, pktScale), 0) / acc : 0;
    const meanSessions = role.classes.reduce((s, cl, k) => s + sessionTarget[k] * meanInBytes(cl, pktScale), 0);
    const meanBg =
      BACKGROUND.reduce((s, cl) => s + cl.weight * meanInBytes(cl, 1), 0) /
      BACKGROUND.reduce((s, cl) => s + cl.weight, 0);
    const meanInPerMinute =
      rate * meanConv +
      meanSessions +
      background * meanBg +
      (heartbeat ? meanInBytes(role.classes[0], pktScale) / heartbeat : 0);

    const node: SynthNode = {
      index: i,
      address,
      v6,
      customer: c,
      customerId: customers[c].id,
      role: role.name,
      scale,
      quiet,
      rate,
      pktScale,
      classCum,
      sessionTarget,
      servicePort,
      heartbeat,
      heartbeatPhase: heartbeat ? rng.int(heartbeat) : 0,
      background,
      clients,
      peerOffset: rng.u32(),
      meanInPerMinute,
    };
    nodes.push(node);
    customers[c].nodes.push(i);
  }
  return { customers, nodes };
}

/** Heavy-tailed split of `total` nodes over `n` customers: each has at least one, at most 250. */
export function nodesPerCustomer(n: number, total: number, rng: Rng): number[] {
  if (total < n)
    throw new Error(`synth: ${total} nodes cannot cover ${n} customers (each customer has at least one node)`);
  if (total > 250 * n) throw new Error(`synth: ${total} nodes are too many for ${n} customers (at most 250 each)`);
  const weights = Array.from({ length: n }, () => rng.pareto(1, 1.1));
  const counts = new Array<number>(n).fill(1);
  let left = total - n;
  const sum = weights.reduce((a, b) => a + b, 0);
  // Proportional shares, floored and capped, then the remainder one by one by weight.
  for (let c = 0; c < n && left > 0; c++) {
    const k = Math.min(left, 249, Math.floor(((total - n) * weights[c]) / sum));
    counts[c] += k;
    left -= k;
  }
  while (left > 0) {
    const c = rng.weighted(weights.map((w, i) => (counts[i] < 250 ? w : 0)));
    counts[c]++;
    left--;
  }
  return counts;
}

/** When there are at least as many nodes as roles, reassigns nodes of the most common roles to the missing ones. */
function ensureEveryRole(roles: RoleName[], rng: Rng): void {
  if (roles.length < ROLE_NAMES.length) return;
  for (const missing of ROLE_NAMES) {
    if (roles.includes(missing)) continue;
    const tally = new Map<RoleName, number>();
    for (const r of roles) tally.set(r, (tally.get(r) ?? 0) + 1);
    const [common] = [...tally.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    const candidates = roles.map((r, i) => (r === common ? i : -1)).filter((i) => i >= 0);
    roles[rng.pick(candidates)] = missing;
  }
}

/** The inventory CSV (the shared contract: prefix,customer,role). */
export function inventoryCsv(inv: Inventory): string {
  return 'prefix,customer,role\n' + inv.nodes.map((n) => `${n.address},${n.customerId},${n.role}`).join('\n') + '\n';
}
