/**
 * Protocol names to IANA protocol numbers, as the flow tools print them. Case-insensitive.
 *
 * - nfdump prints its own short names (`TCP`, `ICMP6`, `Frag6`, `IPIP` = 4, ...) and the number for
 *   a protocol it has no name for (`128  `, space-padded).
 * - Argus prints lower-case names from the IANA keyword list (`ipv6-icmp`, `ipnip` for IP-in-IP)
 *   and a few of its own: `rtp`, `rtcp` and `udt` are UDP flows it recognised as such.
 * - A decimal number 0-255 is accepted everywhere.
 * Names that are not IP protocols (`arp`, `rarp`, `llc`, `ipx/spx`, ...) are unknown: the readers
 * reject those records as `unknown_protocol`.
 */

/** nfdump 1.7's names, by number (the names its ProtoString prints). */
// prettier-ignore
const NFDUMP_NAMES: Record<string, number> = {
  ICMP: 1, IGMP: 2, GGP: 3, IPIP: 4, ST: 5, TCP: 6, CBT: 7, EGP: 8, IGP: 9, BBN: 10, NVPII: 11,
  PUP: 12, ARGUS: 13, ENCOM: 14, XNET: 15, CHAOS: 16, UDP: 17, MUX: 18, DCN: 19, HMP: 20, PRM: 21,
  XNS: 22, TRNK1: 23, TRNK2: 24, LEAF1: 25, LEAF2: 26, RDP: 27, IRTP: 28, 'ISO-4': 29, NETBK: 30,
  MFESP: 31, MEINP: 32, DCCP: 33, '3PC': 34, IDPR: 35, XTP: 36, DDP: 37, 'TP++': 39, IL: 40,
  IPV6: 41, SDRP: 42, RTE6: 43, FRAG6: 44, IDRP: 45, RSVP: 46, GRE: 47, MHRP: 48, BNA: 49, ESP: 50,
  AH: 51, INLSP: 52, SWIPE: 53, NARP: 54, MOBIL: 55, TLSP: 56, SKIP: 57, ICMP6: 58, NOHE6: 59,
  OPTS6: 60, HOST: 61, CFTP: 62, NET: 63, SATNT: 64, KLAN: 65, RVD: 66, IPPC: 67, FS: 68, SATM: 69,
  VISA: 70, IPCV: 71, CPNX: 72, CPHB: 73, WSN: 74, PVP: 75, BSATM: 76, SUNND: 77, WBMON: 78,
  WBEXP: 79, ISOIP: 80, VMTP: 81, SVMTP: 82, VINES: 83, TTP: 84, NSIGP: 85, DGP: 86, TCF: 87,
  EIGRP: 88, OSPF: 89, 'S-RPC': 90, LARP: 91, MTP: 92, 'AX.25': 93, OS: 94, MICP: 95, SCCSP: 96,
  ETHIP: 97, ENCAP: 98, GMTP: 100, IFMP: 101, PNNI: 102, PIM: 103, ARIS: 104, SCPS: 105, QNX: 106,
  'A/N': 107, IPCMP: 108, SNP: 109, CPQPP: 110, IPXIP: 111, VRRP: 112, PGM: 113, '0HOP': 114,
  L2TP: 115, DDX: 116, IATP: 117, STP: 118, SRP: 119, UTI: 120, SMP: 121, SM: 122, PTP: 123,
  ISIS4: 124, FIRE: 125, CRTP: 126, CRUDP: 127, IPLT: 129, SPS: 130, PIPE: 131, SCTP: 132, FC: 133,
  MHEAD: 135, 'UDP-L': 136, MPLS: 137,
};

/** IANA keywords (protocol-numbers registry, as in /etc/protocols) and Argus's extra names. */
// prettier-ignore
const IANA_NAMES: Record<string, number> = {
  HOPOPT: 0, ICMP: 1, IGMP: 2, GGP: 3, IPV4: 4, IPENCAP: 4, IPNIP: 4, ST: 5, TCP: 6, CBT: 7, EGP: 8,
  IGP: 9, 'BBN-RCC-MON': 10, 'NVP-II': 11, PUP: 12, EMCON: 14, XNET: 15, CHAOS: 16, UDP: 17,
  MUX: 18, 'DCN-MEAS': 19, HMP: 20, PRM: 21, 'XNS-IDP': 22, 'TRUNK-1': 23, 'TRUNK-2': 24,
  'LEAF-1': 25, 'LEAF-2': 26, RDP: 27, IRTP: 28, 'ISO-TP4': 29, NETBLT: 30, 'MFE-NSP': 31,
  'MERIT-INP': 32, DCCP: 33, '3PC': 34, IDPR: 35, XTP: 36, DDP: 37, 'IDPR-CMTP': 38, 'TP++': 39,
  IL: 40, IPV6: 41, SDRP: 42, 'IPV6-ROUTE': 43, 'IPV6-FRAG': 44, IDRP: 45, RSVP: 46, GRE: 47,
  DSR: 48, BNA: 49, ESP: 50, AH: 51, 'I-NLSP': 52, SWIPE: 53, NARP: 54, MOBILE: 55, TLSP: 56,
  SKIP: 57, 'IPV6-ICMP': 58, ICMP6: 58, ICMPV6: 58, 'IPV6-NONXT': 59, 'IPV6-OPTS': 60, CFTP: 62,
  'SAT-EXPAK': 64, KRYPTOLAN: 65, RVD: 66, IPPC: 67, 'SAT-MON': 69, VISA: 70, IPCV: 71, CPNX: 72,
  CPHB: 73, WSN: 74, PVP: 75, 'BR-SAT-MON': 76, 'SUN-ND': 77, 'WB-MON': 78, 'WB-EXPAK': 79,
  'ISO-IP': 80, VMTP: 81, 'SECURE-VMTP': 82, VINES: 83, TTP: 84, IPTM: 84, 'NSFNET-IGP': 85,
  DGP: 86, TCF: 87, EIGRP: 88, OSPF: 89, OSPFIGP: 89, 'SPRITE-RPC': 90, LARP: 91, MTP: 92,
  'AX.25': 93, IPIP: 94, MICP: 95, 'SCC-SP': 96, ETHERIP: 97, ENCAP: 98, GMTP: 100, IFMP: 101,
  PNNI: 102, PIM: 103, ARIS: 104, SCPS: 105, QNX: 106, 'A/N': 107, IPCOMP: 108, SNP: 109,
  'COMPAQ-PEER': 110, 'IPX-IN-IP': 111, VRRP: 112, PGM: 113, L2TP: 115, DDX: 116, IATP: 117,
  STP: 118, SRP: 119, UTI: 120, SMP: 121, SM: 122, PTP: 123, 'ISIS-OVER-IPV4': 124, ISIS: 124,
  FIRE: 125, CRTP: 126, CRUDP: 127, SSCOPMCE: 128, IPLT: 129, SPS: 130, PIPE: 131, SCTP: 132,
  FC: 133, 'RSVP-E2E-IGNORE': 134, 'MOBILITY-HEADER': 135, UDPLITE: 136, 'MPLS-IN-IP': 137,
  MANET: 138, HIP: 139, SHIM6: 140, WESP: 141, ROHC: 142, ETHERNET: 143,
  // Argus: UDP flows it classified further
  RTP: 17, RTCP: 17, UDT: 17,
};

export type ProtocolTable = 'nfdump' | 'iana';

/** IANA protocol number of a name or decimal number (spaces around it ignored), or -1 when unknown. */
export function protocolNumber(name: string, table: ProtocolTable = 'iana'): number {
  const t = name.trim();
  if (/^\d{1,3}$/.test(t)) {
    const n = Number(t);
    return n <= 255 ? n : -1;
  }
  const key = t.toUpperCase();
  const first = table === 'nfdump' ? NFDUMP_NAMES : IANA_NAMES;
  const second = table === 'nfdump' ? IANA_NAMES : NFDUMP_NAMES;
  return first[key] ?? second[key] ?? -1;
}

/**
 * Byte-level lookup with a memo of the names seen (a flow file uses a handful): returns the protocol
 * number of `buf[start, end)` or -1. One memo per table, keyed by the bytes packed into a number.
 */
export class ProtocolLookup {
  private readonly memo = new Map<number, number>();
  constructor(private readonly table: ProtocolTable) {}

  lookup(buf: Uint8Array, start: number, end: number): number {
    const len = end - start;
    if (len === 0 || len > 6)
      return protocolNumber(Buffer.from(buf.subarray(start, end)).toString('latin1'), this.table);
    // pack up to 6 bytes (48 bits, exact in a double) plus the length
    let key = len;
    for (let i = start; i < end; i++) key = key * 256 + buf[i];
    let v = this.memo.get(key);
    if (v === undefined) {
      v = protocolNumber(Buffer.from(buf.subarray(start, end)).toString('latin1'), this.table);
      if (this.memo.size < 4096) this.memo.set(key, v);
    }
    return v;
  }
}
