/**
 * What each kind of node does on the network, as data: its conversations (protocol, ports, packets
 * and packet sizes of each direction, TCP flags), its daily and weekly rhythm, how quiet it may be and
 * how often it is a DDoS victim. The generator (traffic.ts) reads nothing else about roles.
 *
 * A conversation is one flow record per direction (NetFlow is unidirectional):
 *   server: a peer opens it towards a service port of the node: an incoming flow peer:eph -> node:port,
 *           and (with probability `resp.p`) the node's answer, an outgoing flow node:port -> peer:eph;
 *   client: the node opens it towards a remote service port: outgoing node:eph -> peer:port, and the
 *           incoming answer peer:port -> node:eph.
 * So a web server's port-443 traffic shows in in.port443 and out.port443, while a home gateway's
 * HTTPS shows in its ephemeral port classes (incoming flows are classed by destination port,
 * outgoing by source port: SPEC §1).
 */

export const ROLE_NAMES = ['web', 'dns', 'ntp', 'mail', 'residential', 'iot', 'game', 'vpn'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** IANA protocol numbers used by the generator. ICMP becomes ICMPv6 (58) on IPv6 nodes. */
export const PROTO = { ICMP: 1, TCP: 6, UDP: 17, ESP: 50, ICMP6: 58 } as const;

/** One direction of a conversation: packets per flow (log-normal median and sigma) and bytes per packet. */
export interface Leg {
  pkts: number;
  sigma: number;
  /** Mean bytes per packet (IP length), jittered by +-15% per flow. */
  size: number;
}

/** TCP flag bytes and their weights, e.g. [[27, 0.4], [24, 0.3]]. */
export type FlagMix = readonly (readonly [number, number])[];

export interface TrafficClass {
  name: string;
  /** Relative share of the role's short conversations (0 for session classes). */
  weight: number;
  /**
   * Long-lived traffic (a game session, a VPN tunnel, an SSH login): at activity 1 the node holds
   * about rate x concurrency such sessions, each lasting `length` minutes on average and writing one
   * record per direction per minute (the exporter's active timeout cuts it), with the same peer,
   * ports and phase throughout.
   */
  session?: { length: number; concurrency: number };
  kind: 'server' | 'client';
  proto: number;
  /**
   * The service port: on the node for `server`, on the peer for `client`. Several: one is drawn per
   * flow. 'node' = the node's own service port (a game server's port, a P2P client's port). For
   * ICMP, the type*256+code of the request (nfdump writes it as the destination port).
   */
  ports: readonly number[] | 'node';
  /** Peer-side port: an ephemeral port, except with probability `peerFixedShare` one of these (NTP 123 -> 123). */
  peerFixed?: readonly number[];
  peerFixedShare?: number;
  /** The initiator's flow and the responder's (present with probability p). */
  init: Leg;
  resp?: Leg & { p: number };
  /** Flags of multi-packet TCP flows. */
  initFlags?: FlagMix;
  respFlags?: FlagMix;
  /** Flags of single-packet TCP flows (default SINGLE_INIT_FLAGS / SINGLE_RESP_FLAGS). */
  singleInitFlags?: FlagMix;
  singleRespFlags?: FlagMix;
  /** Flow duration in seconds for multi-packet flows: log-normal median and sigma (capped at 59 s by the exporter's active timeout). */
  duration: readonly [number, number];
  /** ICMP type*256+code of the answer (echo reply 0). */
  respIcmp?: number;
}

export interface RoleSpec {
  name: RoleName;
  describe: string;
  /** Conversations per minute at scale 1, averaged over the day (before the preset's traffic scale). */
  rate: number;
  /** Local hour of the daily peak and depth of the daily cycle (log-cosine: peak/trough = exp(2 depth)). */
  peakHour: number;
  depth: number;
  /** Traffic on Saturday and Sunday relative to weekdays. */
  weekend: number;
  /** Share of the role's nodes that are quiet (a few percent of the usual rate: many zero minutes). */
  quietShare: number;
  /** On/off presence (people at home): mean minutes on and off. Absent: always on. */
  sessions?: { on: number; off: number };
  /** Periodic heartbeats (IoT): one conversation of the first class every P minutes, P drawn from the list. */
  heartbeat?: readonly number[];
  /** Node-specific service ports to draw from (game servers, P2P). */
  nodePorts?: readonly number[];
  /** Relative chance of being a DDoS victim. */
  victimWeight: number;
  /** TCP ports a SYN flood on this role aims at. */
  synTargets: readonly number[];
  classes: readonly TrafficClass[];
}

// TCP flag bytes: F 1, S 2, R 4, P 8, A 16. 27 = SYN+ACK+PSH+FIN (a whole short connection), 26 = no FIN yet,
// 24/16 = a middle piece of a long connection cut by the active timeout, 25 = the last piece, 18 = SYN+ACK only.
// prettier-ignore
const INIT_FLAGS: FlagMix = [[27, 0.34], [26, 0.12], [24, 0.2], [16, 0.14], [25, 0.1], [17, 0.04], [2, 0.03], [20, 0.03]];
// prettier-ignore
const RESP_FLAGS: FlagMix = [[27, 0.3], [26, 0.1], [24, 0.22], [16, 0.14], [25, 0.1], [17, 0.05], [18, 0.05], [20, 0.04]];
// prettier-ignore
const LONG_FLAGS: FlagMix = [[24, 0.55], [16, 0.3], [25, 0.08], [26, 0.07]];
/** Flags of single-packet TCP flows (what packet sampling mostly sees). */
// prettier-ignore
export const SINGLE_INIT_FLAGS: FlagMix = [[2, 0.4], [16, 0.35], [24, 0.15], [17, 0.06], [4, 0.04]];
// prettier-ignore
export const SINGLE_RESP_FLAGS: FlagMix = [[18, 0.35], [16, 0.35], [24, 0.18], [17, 0.06], [4, 0.06]];

/** A UDP query client: one packet each way (answered 99% of the time), `sigma` the size spread of both. */
const udpQueryClient =
  (name: string, port: number, sigma: number, querySize: number, answerSize: number) =>
  (weight: number): TrafficClass => ({
    name,
    weight,
    kind: 'client',
    proto: PROTO.UDP,
    ports: [port],
    init: { pkts: 1, sigma, size: querySize },
    resp: { p: 0.99, pkts: 1, sigma, size: answerSize },
    duration: [0.02, 1],
  });
const dnsClient = udpQueryClient('dns-client', 53, 0.25, 74, 170);
const ntpClient = udpQueryClient('ntp-client', 123, 0, 76, 76);
const httpsClient = (weight: number, init: Leg, resp: Leg): TrafficClass => ({
  name: 'https-client',
  weight,
  kind: 'client',
  proto: PROTO.TCP,
  ports: [443],
  init,
  resp: { p: 0.97, ...resp },
  initFlags: INIT_FLAGS,
  respFlags: RESP_FLAGS,
  duration: [2, 1.4],
});

// prettier-ignore
export const ROLES: Readonly<Record<RoleName, RoleSpec>> = {
  web: {
    name: 'web', describe: 'web server: HTTPS and HTTP in, QUIC, some API calls and DNS out',
    rate: 1.6, peakHour: 14, depth: 0.7, weekend: 0.8, quietShare: 0.08, victimWeight: 2.5, synTargets: [443, 80],
    classes: [
      { name: 'https', weight: 0.58, kind: 'server', proto: PROTO.TCP, ports: [443], init: { pkts: 8, sigma: 0.9, size: 95 }, resp: { p: 0.97, pkts: 12, sigma: 1.1, size: 1180 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [1.5, 1.4] },
      { name: 'http', weight: 0.17, kind: 'server', proto: PROTO.TCP, ports: [80], init: { pkts: 6, sigma: 0.8, size: 110 }, resp: { p: 0.95, pkts: 8, sigma: 1.1, size: 1050 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [1, 1.3] },
      { name: 'quic', weight: 0.07, kind: 'server', proto: PROTO.UDP, ports: [443], init: { pkts: 10, sigma: 0.9, size: 350 }, resp: { p: 1, pkts: 14, sigma: 1.1, size: 1200 }, duration: [2, 1.2] },
      { name: 'ssh', weight: 0, session: { length: 15, concurrency: 0.05 }, kind: 'server', proto: PROTO.TCP, ports: [22], init: { pkts: 20, sigma: 1, size: 90 }, resp: { p: 1, pkts: 20, sigma: 1, size: 140 }, initFlags: LONG_FLAGS, respFlags: LONG_FLAGS, duration: [40, 0.5] },
      httpsClient(0.06, { pkts: 7, sigma: 0.8, size: 220 }, { pkts: 8, sigma: 1, size: 900 }),
      dnsClient(0.08),
      ntpClient(0.02),
    ],
  },
  dns: {
    name: 'dns', describe: 'DNS resolver: queries in on UDP/53 (some TCP/53 and DoT), recursion out',
    rate: 2.2, peakHour: 20, depth: 0.7, weekend: 1.05, quietShare: 0.05, victimWeight: 2, synTargets: [53, 853],
    classes: [
      { name: 'dns', weight: 0.74, kind: 'server', proto: PROTO.UDP, ports: [53], init: { pkts: 1, sigma: 0.3, size: 72 }, resp: { p: 0.99, pkts: 1, sigma: 0.3, size: 165 }, duration: [0.02, 1] },
      { name: 'dns-tcp', weight: 0.03, kind: 'server', proto: PROTO.TCP, ports: [53], init: { pkts: 5, sigma: 0.4, size: 90 }, resp: { p: 0.95, pkts: 5, sigma: 0.4, size: 300 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [0.1, 1] },
      { name: 'dot', weight: 0.02, kind: 'server', proto: PROTO.TCP, ports: [853], init: { pkts: 8, sigma: 0.6, size: 120 }, resp: { p: 0.95, pkts: 8, sigma: 0.6, size: 400 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [3, 1] },
      { name: 'recursion', weight: 0.19, kind: 'client', proto: PROTO.UDP, ports: [53], init: { pkts: 1, sigma: 0.2, size: 80 }, resp: { p: 0.97, pkts: 1, sigma: 0.3, size: 420 }, duration: [0.05, 1] },
      ntpClient(0.02),
    ],
  },
  ntp: {
    name: 'ntp', describe: 'NTP server: 76-byte UDP/123 requests and answers, peering 123 -> 123 with upstream servers',
    rate: 2.5, peakHour: 12, depth: 0.35, weekend: 1, quietShare: 0.05, victimWeight: 1, synTargets: [22, 80],
    classes: [
      { name: 'ntp', weight: 0.9, kind: 'server', proto: PROTO.UDP, ports: [123], peerFixed: [123], peerFixedShare: 0.3, init: { pkts: 1, sigma: 0.15, size: 76 }, resp: { p: 0.995, pkts: 1, sigma: 0.15, size: 76 }, duration: [0.02, 1] },
      { name: 'ntp-peer', weight: 0.05, kind: 'client', proto: PROTO.UDP, ports: [123], peerFixed: [123], peerFixedShare: 1, init: { pkts: 1, sigma: 0, size: 76 }, resp: { p: 1, pkts: 1, sigma: 0, size: 76 }, duration: [0.02, 1] },
      dnsClient(0.05),
    ],
  },
  mail: {
    name: 'mail', describe: 'mail server: SMTP in and out, submission, IMAPS and webmail, office hours',
    rate: 0.8, peakHour: 11, depth: 0.8, weekend: 0.4, quietShare: 0.1, victimWeight: 1, synTargets: [25, 443],
    classes: [
      { name: 'smtp', weight: 0.3, kind: 'server', proto: PROTO.TCP, ports: [25], init: { pkts: 14, sigma: 1.1, size: 520 }, resp: { p: 0.97, pkts: 10, sigma: 0.6, size: 75 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [3, 1.2] },
      { name: 'submission', weight: 0.08, kind: 'server', proto: PROTO.TCP, ports: [587, 465], init: { pkts: 16, sigma: 1, size: 600 }, resp: { p: 0.97, pkts: 12, sigma: 0.6, size: 80 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [3, 1.2] },
      { name: 'imaps', weight: 0.28, kind: 'server', proto: PROTO.TCP, ports: [993, 143], init: { pkts: 10, sigma: 1, size: 110 }, resp: { p: 0.98, pkts: 14, sigma: 1.3, size: 950 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [8, 1.3] },
      { name: 'webmail', weight: 0.1, kind: 'server', proto: PROTO.TCP, ports: [443], init: { pkts: 8, sigma: 0.9, size: 100 }, resp: { p: 0.97, pkts: 12, sigma: 1.1, size: 1100 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [1.5, 1.4] },
      { name: 'smtp-out', weight: 0.14, kind: 'client', proto: PROTO.TCP, ports: [25], init: { pkts: 14, sigma: 1.1, size: 560 }, resp: { p: 0.95, pkts: 10, sigma: 0.6, size: 75 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [3, 1.2] },
      dnsClient(0.1),
    ],
  },
  residential: {
    name: 'residential', describe: 'home gateway: HTTPS, QUIC and video in answer to its own requests, DNS, P2P, evenings and weekends',
    rate: 0.9, peakHour: 21, depth: 0.9, weekend: 1.2, quietShare: 0.12, sessions: { on: 90, off: 60 }, nodePorts: [51413, 6881, 41641, 3478, 32400], victimWeight: 1.5, synTargets: [80, 443, 8080],
    classes: [
      httpsClient(0.42, { pkts: 9, sigma: 1, size: 110 }, { pkts: 14, sigma: 1.3, size: 1250 }),
      { name: 'quic-client', weight: 0.16, kind: 'client', proto: PROTO.UDP, ports: [443], init: { pkts: 12, sigma: 1, size: 180 }, resp: { p: 0.99, pkts: 22, sigma: 1.3, size: 1200 }, duration: [3, 1.3] },
      { name: 'http-client', weight: 0.05, kind: 'client', proto: PROTO.TCP, ports: [80], init: { pkts: 6, sigma: 0.8, size: 120 }, resp: { p: 0.95, pkts: 9, sigma: 1.2, size: 1100 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [1, 1.3] },
      dnsClient(0.17),
      { name: 'video', weight: 0.12, kind: 'client', proto: PROTO.TCP, ports: [443], init: { pkts: 40, sigma: 0.7, size: 60 }, resp: { p: 0.99, pkts: 250, sigma: 0.7, size: 1400 }, initFlags: LONG_FLAGS, respFlags: LONG_FLAGS, duration: [8, 0.6] },
      { name: 'p2p', weight: 0.06, kind: 'server', proto: PROTO.UDP, ports: 'node', init: { pkts: 6, sigma: 1.2, size: 600 }, resp: { p: 0.9, pkts: 6, sigma: 1.2, size: 600 }, duration: [5, 1.2] },
      ntpClient(0.02),
      { name: 'ping', weight: 0.03, kind: 'client', proto: PROTO.ICMP, ports: [0x0800], init: { pkts: 1, sigma: 0.4, size: 84 }, resp: { p: 0.9, pkts: 1, sigma: 0.4, size: 84 }, respIcmp: 0, duration: [1, 1] },
      { name: 'imaps-client', weight: 0.03, kind: 'client', proto: PROTO.TCP, ports: [993], init: { pkts: 8, sigma: 0.8, size: 100 }, resp: { p: 0.97, pkts: 10, sigma: 1.2, size: 800 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [4, 1] },
      { name: 'game-client', weight: 0, session: { length: 40, concurrency: 0.25 }, kind: 'client', proto: PROTO.UDP, ports: [27015, 3074, 7777], init: { pkts: 300, sigma: 0.5, size: 90 }, resp: { p: 1, pkts: 350, sigma: 0.5, size: 150 }, duration: [58, 0.05] },
    ],
  },
  iot: {
    name: 'iot', describe: 'IoT device: periodic MQTT/TLS heartbeats, a little HTTPS, DNS, NTP and CoAP; mostly silent',
    rate: 0.12, peakHour: 12, depth: 0.1, weekend: 1, quietShare: 0.3, heartbeat: [1, 5, 10, 15, 30, 60], victimWeight: 0.3, synTargets: [80, 23, 8080],
    classes: [
      { name: 'mqtt', weight: 0.45, kind: 'client', proto: PROTO.TCP, ports: [8883], init: { pkts: 4, sigma: 0.5, size: 120 }, resp: { p: 0.98, pkts: 3, sigma: 0.5, size: 90 }, initFlags: LONG_FLAGS, respFlags: LONG_FLAGS, duration: [0.5, 1] },
      httpsClient(0.25, { pkts: 6, sigma: 0.6, size: 250 }, { pkts: 6, sigma: 0.8, size: 700 }),
      dnsClient(0.15),
      ntpClient(0.08),
      { name: 'coap', weight: 0.07, kind: 'client', proto: PROTO.UDP, ports: [5683], init: { pkts: 1, sigma: 0.3, size: 60 }, resp: { p: 0.9, pkts: 1, sigma: 0.3, size: 80 }, duration: [0.05, 1] },
    ],
  },
  game: {
    name: 'game', describe: 'game server: long UDP sessions of small packets on its own port, server-browser queries, evenings and weekends',
    rate: 0.9, peakHour: 22, depth: 0.85, weekend: 1.3, quietShare: 0.1, nodePorts: [27015, 7777, 3074, 28015, 9987, 25565], victimWeight: 3, synTargets: [25565, 27015, 443],
    classes: [
      { name: 'game', weight: 0, session: { length: 30, concurrency: 4 }, kind: 'server', proto: PROTO.UDP, ports: 'node', init: { pkts: 500, sigma: 0.5, size: 90 }, resp: { p: 1, pkts: 550, sigma: 0.5, size: 160 }, duration: [58, 0.05] },
      { name: 'query', weight: 0.3, kind: 'server', proto: PROTO.UDP, ports: 'node', init: { pkts: 1, sigma: 0.3, size: 60 }, resp: { p: 0.9, pkts: 1, sigma: 0.3, size: 900 }, duration: [0.02, 1] },
      { name: 'lobby', weight: 0.12, kind: 'server', proto: PROTO.TCP, ports: [443], init: { pkts: 8, sigma: 0.9, size: 100 }, resp: { p: 0.97, pkts: 12, sigma: 1.1, size: 1000 }, initFlags: INIT_FLAGS, respFlags: RESP_FLAGS, duration: [2, 1.2] },
      { name: 'game-tcp', weight: 0, session: { length: 40, concurrency: 4 }, kind: 'server', proto: PROTO.TCP, ports: [25565], init: { pkts: 200, sigma: 0.6, size: 80 }, resp: { p: 1, pkts: 220, sigma: 0.6, size: 300 }, initFlags: LONG_FLAGS, respFlags: LONG_FLAGS, duration: [58, 0.05] },
      dnsClient(0.05),
    ],
  },
  vpn: {
    name: 'vpn', describe: 'VPN gateway: IPsec ESP (protocol 50) and NAT-T UDP/4500, IKE UDP/500, SSL VPN on 443, office hours',
    rate: 0.5, peakHour: 11, depth: 0.9, weekend: 0.3, quietShare: 0.1, victimWeight: 1, synTargets: [443],
    classes: [
      { name: 'esp', weight: 0, session: { length: 90, concurrency: 2 }, kind: 'server', proto: PROTO.ESP, ports: [0], init: { pkts: 150, sigma: 0.8, size: 420 }, resp: { p: 1, pkts: 160, sigma: 0.8, size: 900 }, duration: [58, 0.05] },
      { name: 'nat-t', weight: 0, session: { length: 90, concurrency: 1.5 }, kind: 'server', proto: PROTO.UDP, ports: [4500], peerFixed: [4500], peerFixedShare: 0.8, init: { pkts: 120, sigma: 0.8, size: 400 }, resp: { p: 1, pkts: 130, sigma: 0.8, size: 850 }, duration: [58, 0.05] },
      { name: 'ike', weight: 0.05, kind: 'server', proto: PROTO.UDP, ports: [500], peerFixed: [500], peerFixedShare: 0.9, init: { pkts: 2, sigma: 0.5, size: 400 }, resp: { p: 0.95, pkts: 2, sigma: 0.5, size: 350 }, duration: [0.5, 1] },
      { name: 'sslvpn', weight: 0, session: { length: 45, concurrency: 1 }, kind: 'server', proto: PROTO.TCP, ports: [443], init: { pkts: 60, sigma: 0.8, size: 200 }, resp: { p: 1, pkts: 80, sigma: 0.8, size: 1000 }, initFlags: LONG_FLAGS, respFlags: LONG_FLAGS, duration: [58, 0.05] },
      dnsClient(0.05),
    ],
  },
};

/**
 * Internet background radiation every node receives whatever its role: SYN scans of common ports
 * (answered by a reset now and then), UDP probes for amplifiers, pings. Incoming only, by peers.
 */
// prettier-ignore
export const BACKGROUND: readonly TrafficClass[] = [
  { name: 'syn-scan', weight: 0.55, kind: 'server', proto: PROTO.TCP, ports: [23, 22, 445, 3389, 80, 443, 8080, 5555, 2323, 6379, 8443, 21, 25, 1433, 3306, 5900, 37215, 52869], init: { pkts: 1, sigma: 0.2, size: 44 }, resp: { p: 0.25, pkts: 1, sigma: 0, size: 40 }, singleInitFlags: [[2, 1]], singleRespFlags: [[20, 0.8], [18, 0.2]], duration: [1, 0.5] },
  { name: 'udp-probe', weight: 0.25, kind: 'server', proto: PROTO.UDP, ports: [53, 123, 161, 1900, 5060, 11211, 137, 19, 389, 3702, 10001], init: { pkts: 1, sigma: 0.3, size: 62 }, resp: { p: 0.04, pkts: 1, sigma: 0.3, size: 90 }, duration: [0.1, 1] },
  { name: 'ping-in', weight: 0.2, kind: 'server', proto: PROTO.ICMP, ports: [0x0800], init: { pkts: 1, sigma: 0.3, size: 84 }, resp: { p: 0.6, pkts: 1, sigma: 0.3, size: 84 }, respIcmp: 0, duration: [1, 1] },
];

/** Customer kinds and the roles of their nodes (relative weights), with the kinds' own shares. */
// prettier-ignore
export const CUSTOMER_KINDS: readonly { name: string; share: number; roles: Partial<Record<RoleName, number>> }[] = [
  { name: 'hosting', share: 0.3, roles: { web: 0.45, dns: 0.1, mail: 0.12, ntp: 0.06, game: 0.12, vpn: 0.05, iot: 0.02, residential: 0.08 } },
  { name: 'enterprise', share: 0.3, roles: { web: 0.22, mail: 0.18, dns: 0.08, vpn: 0.18, iot: 0.24, ntp: 0.05, residential: 0.05 } },
  { name: 'broadband', share: 0.25, roles: { residential: 0.68, iot: 0.2, dns: 0.08, ntp: 0.02, game: 0.02 } },
  { name: 'gaming', share: 0.15, roles: { game: 0.6, web: 0.22, dns: 0.1, ntp: 0.04, vpn: 0.04 } },
];

/** Mean of exp(sigma * N(0,1)): the factor between a log-normal's median and its mean. */
export function lognormalMeanFactor(sigma: number): number {
  return Math.exp((sigma * sigma) / 2);
}

/**
 * Median packets of a leg on a node of size factor pktScale: bulk flows (more than 2 packets) grow with
 * the node's size, single-packet exchanges (a DNS query, an NTP request) do not.
 */
export function legMedianPkts(l: Leg, pktScale: number): number {
  return l.pkts > 2 ? l.pkts * pktScale : l.pkts;
}

/** Expected incoming bytes of one conversation of a class (for a session class: of one session-minute). */
export function meanInBytes(c: TrafficClass, pktScale: number): number {
  const leg = (l: Leg) => Math.max(1, legMedianPkts(l, pktScale) * lognormalMeanFactor(l.sigma)) * l.size;
  if (c.kind === 'server') return leg(c.init);
  return c.resp ? c.resp.p * leg(c.resp) : 0;
}
