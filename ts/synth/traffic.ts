/**
 * Normal traffic of one node in one minute: its conversations (roles.ts) turned into flow records.
 *
 * Peers come from a fixed pool of Internet addresses drawn once from the seed. Remote servers a node
 * talks to are shared by everyone and Zipf-popular (a CDN serves many homes); the clients of a server
 * are its own slice of the pool, also Zipf-popular (regulars and passers-by).
 */
import { formatIPv4, randomPublicV4, randomPublicV6 } from './address.js';
import type { FlowBuffer } from './buffer.js';
import type { SynthNode } from './inventory.js';
import {
  BACKGROUND,
  PROTO,
  ROLES,
  SINGLE_INIT_FLAGS,
  SINGLE_RESP_FLAGS,
  legMedianPkts,
  type FlagMix,
  type Leg,
  type TrafficClass,
} from './roles.js';
import { Rng } from '../common/rng.js';

export class PeerPool {
  readonly v4: string[];
  readonly v6: string[];

  constructor(seed: number, size4 = 32_768, size6 = 8_192) {
    const rng = Rng.derive(seed, 'peers');
    this.v4 = Array.from({ length: size4 }, () => formatIPv4(randomPublicV4(rng)));
    this.v6 = Array.from({ length: size6 }, () => randomPublicV6(rng));
  }
}

/** Rank in [0, n) with P(rank <= r) ~ log(r + 2) / log(n + 1): a continuous Zipf law of exponent 1. */
export function zipfRank(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(Math.exp(rng.float() * Math.log(n + 1))) - 1);
}

/** An ephemeral port as operating systems pick them: IANA's 49152-65535 or Linux's 32768-60999. */
export function ephemeralPort(rng: Rng): number {
  return rng.chance(0.6) ? 49152 + rng.int(16384) : 32768 + rng.int(28232);
}

export function pickFlags(mix: FlagMix, rng: Rng): number {
  let total = 0;
  for (const [, w] of mix) total += w;
  let r = rng.float() * total;
  for (const [f, w] of mix) {
    r -= w;
    if (r < 0) return f;
  }
  return mix[mix.length - 1][0];
}

/** Packets of one leg: log-normal around the leg's median (scaled for bulk flows), at least 1. */
export function legPackets(leg: Leg, pktScale: number, rng: Rng): number {
  return Math.max(
    1,
    Math.round(leg.sigma > 0 ? rng.lognormal(legMedianPkts(leg, pktScale), leg.sigma) : legMedianPkts(leg, pktScale)),
  );
}

/** A conversation's flag mixes per side: [one-packet leg, longer leg], the defaults where the class sets none. */
const LEG_FLAGS = {
  init: (c: TrafficClass) => [c.singleInitFlags ?? SINGLE_INIT_FLAGS, c.initFlags ?? SINGLE_INIT_FLAGS],
  resp: (c: TrafficClass) => [c.singleRespFlags ?? SINGLE_RESP_FLAGS, c.respFlags ?? SINGLE_RESP_FLAGS],
} as const;

/**
 * One leg (`side`) of a conversation, drawn in this order: packets, bytes, then (TCP only) the flag
 * byte from the side's mix for a one-packet leg or for a longer one (LEG_FLAGS). Other protocols: flags 0.
 */
function drawLeg(
  c: TrafficClass,
  side: 'init' | 'resp',
  tcp: boolean,
  pktScale: number,
  rng: Rng,
): [pkts: number, bytes: number, flags: number] {
  const leg = side === 'init' ? c.init : c.resp!;
  const pkts = legPackets(leg, pktScale, rng);
  const bytes = legBytes(leg, pkts, rng);
  const [single, multi] = LEG_FLAGS[side](c);
  return [pkts, bytes, tcp ? pickFlags(pkts === 1 ? single : multi, rng) : 0];
}

/** Bytes of `pkts` packets of a leg: the per-packet size jittered +-15% (within 28..1500 bytes). */
export function legBytes(leg: Leg, pkts: number, rng: Rng): number {
  const size = Math.min(1500, Math.max(28, leg.size * (1 + 0.15 * Math.max(-2, Math.min(2, rng.normal())))));
  return Math.round(pkts * size);
}

function durationMs(c: TrafficClass, pkts: number, rng: Rng): number {
  if (pkts <= 1) return 0;
  // The exporter's active timeout cuts flows at 60 s.
  return Math.max(1, Math.min(59_999, Math.round(rng.lognormal(c.duration[0], c.duration[1]) * 1000)));
}

function icmpCode(v6: boolean, code: number): number {
  if (!v6) return code;
  // Echo request 8 -> ICMPv6 128, echo reply 0 -> 129 (nfdump writes type*256+code as the port).
  return code === 0x0800 ? 0x8000 : code === 0 ? 0x8100 : code;
}

export interface PeerChoice {
  /** Remote clients of a server node: its own slice of the pool. */
  client(node: SynthNode, rng: Rng): string;
  /** Remote servers a node talks to: Zipf-popular, shared. */
  server(node: SynthNode, rng: Rng): string;
  /** A random Internet host (scanners). */
  random(node: SynthNode, rng: Rng): string;
}

export function peerChoice(pool: PeerPool): PeerChoice {
  return {
    client(node, rng) {
      const p = node.v6 ? pool.v6 : pool.v4;
      const r = zipfRank(rng, node.clients);
      return p[((node.peerOffset + Math.imul(r, 0x9e3779b1)) >>> 0) % p.length];
    },
    server(node, rng) {
      const p = node.v6 ? pool.v6 : pool.v4;
      return p[zipfRank(rng, Math.min(4096, p.length))];
    },
    random(node, rng) {
      return node.v6 ? randomPublicV6(rng) : formatIPv4(randomPublicV4(rng));
    },
  };
}

/** The endpoints and timing of a conversation: drawn afresh for a short one, kept for a whole session. */
export interface Endpoint {
  peer: string;
  service: number;
  peerPort: number;
  ownPort: number;
  /** Start within the minute, ms. */
  offset: number;
}

export function newEndpoint(c: TrafficClass, node: SynthNode, peer: string, rng: Rng): Endpoint {
  const ported = c.proto === PROTO.TCP || c.proto === PROTO.UDP;
  return {
    peer,
    service:
      c.ports === 'node' ? node.servicePort : c.ports.length === 1 ? c.ports[0] : c.ports[rng.int(c.ports.length)],
    peerPort: ported
      ? c.peerFixed && rng.chance(c.peerFixedShare ?? 1)
        ? rng.pick(c.peerFixed)
        : ephemeralPort(rng)
      : 0,
    ownPort: ported && c.kind === 'client' ? ephemeralPort(rng) : 0,
    offset: rng.int(60_000),
  };
}

/** One conversation: the initiator's flow and maybe the responder's. */
export function emitConversation(
  c: TrafficClass,
  node: SynthNode,
  minuteStartMs: number,
  e: Endpoint,
  rng: Rng,
  buf: FlowBuffer,
): void {
  const v6 = node.v6;
  const icmp = c.proto === PROTO.ICMP;
  const proto = icmp && v6 ? PROTO.ICMP6 : c.proto;
  const ported = proto === PROTO.TCP || proto === PROTO.UDP;
  const { peer, service, peerPort, ownPort, offset } = e;
  const start = minuteStartMs + offset;

  // Initiator: peer -> node (server) or node -> peer (client).
  const tcp = proto === PROTO.TCP;
  const [p1, b1, f1] = drawLeg(c, 'init', tcp, node.pktScale, rng);
  const d1 = durationMs(c, p1, rng);
  const reqPort = icmp ? icmpCode(v6, service) : ported ? service : 0;
  if (c.kind === 'server')
    buf.add(rng, start, d1, peer, node.address, peerPort, reqPort, proto, f1, p1, b1, node.index);
  else buf.add(rng, start, d1, node.address, peer, ownPort, reqPort, proto, f1, p1, b1, -1);

  if (!c.resp || !rng.chance(c.resp.p)) return;
  const [p2, b2, f2] = drawLeg(c, 'resp', tcp, node.pktScale, rng);
  // The answer leaves a few milliseconds later, still within the minute.
  const offset2 = Math.min(59_999, offset + 1 + rng.int(200));
  const d2 = durationMs(c, p2, rng);
  if (icmp) {
    const reply = icmpCode(v6, c.respIcmp ?? 0);
    if (c.kind === 'server')
      buf.add(rng, minuteStartMs + offset2, d2, node.address, peer, 0, reply, proto, 0, p2, b2, -1);
    else buf.add(rng, minuteStartMs + offset2, d2, peer, node.address, 0, reply, proto, 0, p2, b2, node.index);
  } else if (c.kind === 'server')
    buf.add(
      rng,
      minuteStartMs + offset2,
      d2,
      node.address,
      peer,
      ported ? service : 0,
      peerPort,
      proto,
      f2,
      p2,
      b2,
      -1,
    );
  else
    buf.add(
      rng,
      minuteStartMs + offset2,
      d2,
      peer,
      node.address,
      ported ? service : 0,
      ownPort,
      proto,
      f2,
      p2,
      b2,
      node.index,
    );
}

const BG_WEIGHTS = BACKGROUND.map((c) => c.weight);

/** A long-lived session of a node: its class and fixed endpoints. */
export interface Session extends Endpoint {
  cls: number;
}

/**
 * Sessions as a birth-death process per class: each ends with probability 1/length a minute, new
 * ones arrive at rate target x level / length, so their number follows the node's activity with a
 * lag of about one session length. An outage (level 0) drops them all. `first`: the first minute,
 * which starts from the steady state rather than from nothing.
 */
export function stepSessions(
  sessions: Session[],
  node: SynthNode,
  level: number,
  peers: PeerChoice,
  rng: Rng,
  first = false,
): Session[] {
  if (level <= 0) return sessions.length ? [] : sessions;
  const role = ROLES[node.role];
  // Ends (in place, keeping the order of the others), then arrivals.
  let n = 0;
  for (const s of sessions) if (!rng.chance(1 / role.classes[s.cls].session!.length)) sessions[n++] = s;
  sessions.length = n;
  for (let k = 0; k < role.classes.length; k++) {
    const target = node.sessionTarget[k];
    if (target <= 0) continue;
    const c = role.classes[k];
    const births = rng.poisson(first ? target * level : (target * level) / c.session!.length);
    for (let b = 0; b < births; b++)
      sessions.push({
        cls: k,
        ...newEndpoint(c, node, c.kind === 'server' ? peers.client(node, rng) : peers.server(node, rng), rng),
      });
  }
  return sessions;
}

/**
 * A node's normal traffic in one minute at activity `level` (0 = outage: nothing at all), capped at
 * `maxFlows` records: its sessions, its short conversations, a heartbeat, background radiation.
 */
export function emitNodeMinute(
  node: SynthNode,
  sessions: readonly Session[],
  level: number,
  epochMinute: number,
  minuteIndex: number,
  maxFlows: number,
  peers: PeerChoice,
  rng: Rng,
  buf: FlowBuffer,
): void {
  if (level <= 0) return;
  const role = ROLES[node.role];
  const minuteStartMs = epochMinute * 60_000;
  const cap = Math.floor(maxFlows / 2);
  let conversations = 0;
  for (const s of sessions) {
    if (conversations++ >= cap) break;
    emitConversation(role.classes[s.cls], node, minuteStartMs, s, rng, buf);
  }
  const short =
    node.classCum[node.classCum.length - 1] > 0 ? Math.min(cap - conversations, rng.poisson(node.rate * level)) : 0;
  for (let k = 0; k < short; k++, conversations++) {
    const c = role.classes[rng.fromCumulative(node.classCum)];
    emitConversation(
      c,
      node,
      minuteStartMs,
      newEndpoint(c, node, c.kind === 'server' ? peers.client(node, rng) : peers.server(node, rng), rng),
      rng,
      buf,
    );
  }
  if (node.heartbeat > 0 && (minuteIndex - node.heartbeatPhase) % node.heartbeat === 0) {
    const c = role.classes[0];
    emitConversation(c, node, minuteStartMs, newEndpoint(c, node, peers.server(node, rng), rng), rng, buf);
    conversations++;
  }
  // Internet background radiation: IPv6 space is too large to scan, so v6 nodes see a tenth of it.
  const bg = rng.poisson(node.background * (node.v6 ? 0.1 : 1));
  for (let k = 0; k < bg && conversations < cap; k++, conversations++) {
    const c = BACKGROUND[rng.weighted(BG_WEIGHTS)];
    emitConversation(c, node, minuteStartMs, newEndpoint(c, node, peers.random(node, rng), rng), rng, buf);
  }
}
