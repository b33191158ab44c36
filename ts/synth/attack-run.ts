/**
 * An attack while it runs (AttackRun.emitMinute): its volume curve (attackCurve: ramp, plateau with
 * pulses, decay; the formula in attacks.ts's header) turned into flow records minute by minute, from
 * spoofed sources, a Zipf-weighted pool of reflectors or bots, or a replayed capture's flows, and the
 * incoming packets, bytes and flows emitted kept as the attack's ground truth.
 */
import { formatIPv4, randomPublicV4, randomPublicV6 } from './address.js';
import type { AttackPlan } from './attacks.js';
import type { FlowBuffer } from './buffer.js';
import type { SynthNode } from './inventory.js';
import type { AttackTemplate } from './overlay.js';
import { PROTO } from './roles.js';
import { Rng } from '../common/rng.js';

/** The reflection attacks' answers: the service's source port, and the packet size as a share of pktSize (uniform). */
const REFLECTORS: Record<'DNS' | 'NTP', { port: number; size: [number, number] }> = {
  DNS: { port: 53, size: [0.9, 1.1] },
  NTP: { port: 123, size: [0.98, 1.02] },
};

/** Target incoming bytes of attack minute i (0-based), before the per-minute noise. */
export function attackCurve(
  a: Pick<AttackPlan, 'duration' | 'ramp' | 'decay' | 'startBytes' | 'peakBytes' | 'pulse'>,
  i: number,
): number {
  if (i < 0 || i >= a.duration) return 0;
  if (i < a.ramp) return a.startBytes * Math.pow(a.peakBytes / a.startBytes, i / a.ramp);
  let v = a.peakBytes;
  const fromEnd = a.duration - i;
  if (fromEnd <= a.decay) v *= 0.2 + (0.8 * (fromEnd - 1)) / a.decay;
  if (a.pulse > 0 && (i - a.ramp) % a.pulse >= a.pulse / 2) v *= 0.05;
  return v;
}

/** Live state of an attack while it runs: its random stream, its reflectors, its ground truth. */
export class AttackRun {
  readonly rng: Rng;
  private pool: string[] | null = null;
  readonly pkts: Float64Array;
  readonly bytes: Float64Array;
  readonly flows: Float64Array;

  constructor(
    readonly plan: AttackPlan,
    seed: number,
  ) {
    this.rng = Rng.derive(seed, 'attack', plan.index);
    this.pkts = new Float64Array(plan.duration);
    this.bytes = new Float64Array(plan.duration);
    this.flows = new Float64Array(plan.duration);
  }

  private source(victim: SynthNode): string {
    const r = this.rng;
    if (this.plan.sources === 0) return victim.v6 ? randomPublicV6(r) : formatIPv4(randomPublicV4(r));
    if (!this.pool)
      this.pool = Array.from({ length: this.plan.sources }, () =>
        victim.v6 ? randomPublicV6(r) : formatIPv4(randomPublicV4(r)),
      );
    // Reflectors contribute unevenly: a Zipf-like pick.
    return this.pool[
      Math.min(this.pool.length - 1, Math.floor(Math.exp(r.float() * Math.log(this.pool.length + 1))) - 1)
    ];
  }

  /** Emits minute i of the attack into the buffer and records what was emitted (incoming) as ground truth. */
  emitMinute(
    i: number,
    victim: SynthNode,
    epochMinute: number,
    maxFlows: number,
    templates: readonly AttackTemplate[],
    buf: FlowBuffer,
  ): void {
    const a = this.plan;
    const r = this.rng;
    const volume = attackCurve(a, i) * Math.min(2, Math.max(0.5, r.lognormal(1, 0.2)));
    const totalPkts = Math.max(1, volume / a.pktSize);
    const intensity = Math.sqrt(Math.min(1, volume / a.peakBytes));
    let flows = Math.max(1, Math.round(maxFlows * intensity));
    if (a.sources > 0) flows = Math.min(flows, a.sources);
    flows = Math.min(flows, Math.max(1, Math.floor(totalPkts)));
    const weights = new Float64Array(flows);
    let wsum = 0;
    const tpl = a.template >= 0 ? templates[a.template] : null;
    const picks = tpl ? Int32Array.from({ length: flows }, () => r.int(tpl.src.length)) : null;
    for (let j = 0; j < flows; j++) {
      weights[j] = tpl ? tpl.pkts[picks![j]] : r.lognormal(1, 0.7);
      wsum += weights[j];
    }
    const t0 = epochMinute * 60_000;
    for (let j = 0; j < flows; j++) {
      const pkts = Math.max(1, Math.round((totalPkts * weights[j]) / wsum));
      let offset = r.int(60_000);
      let src: string,
        sp: number,
        dp: number,
        proto: number,
        flags = 0,
        size: number;
      if (tpl) {
        const k = picks![j];
        // The capture's own timing, stretched over the minute.
        offset = Math.min(59_999, Math.floor((tpl.offset[k] / tpl.seconds) * 59_000) + r.int(1000));
        src = tpl.src[k];
        sp = tpl.sp[k];
        dp = tpl.dp[k];
        proto = tpl.proto[k];
        flags = tpl.flags[k];
        size = tpl.bytes[k] / tpl.pkts[k];
      } else {
        src = this.source(victim);
        const randomDst = a.dstPort >= 0 ? a.dstPort : 1024 + r.int(64512);
        switch (a.type) {
          case 'DNS':
          case 'NTP':
            proto = PROTO.UDP;
            if (a.type === 'DNS' && r.chance(a.fragments)) {
              sp = dp = 0;
              size = 1500;
            } else {
              const {
                port,
                size: [lo, hi],
              } = REFLECTORS[a.type];
              sp = port;
              dp = randomDst;
              size = a.pktSize * r.uniform(lo, hi);
            }
            break;
          case 'SYN':
            proto = PROTO.TCP;
            sp = 1024 + r.int(64512);
            dp = a.dstPort;
            flags = 2;
            size = a.pktSize;
            break;
          default:
            proto = PROTO.UDP;
            sp = 1024 + r.int(64512);
            dp = a.dstPort >= 0 ? a.dstPort : 1 + r.int(65535);
            size = a.pktSize * r.uniform(0.95, 1.05);
        }
      }
      const durMs = pkts > 1 ? Math.max(1, Math.min(59_999, Math.round((60_000 - offset) * r.uniform(0.3, 1)))) : 0;
      const bytes = Math.max(pkts * 20, Math.round(pkts * size));
      if (buf.add(r, t0 + offset, durMs, src, victim.address, sp, dp, proto, flags, pkts, bytes, victim.index)) {
        this.pkts[i] += buf.lastPkts;
        this.bytes[i] += buf.lastBytes;
        this.flows[i] += buf.sampling;
        // The victim's SYN-ACK answers to a spoofed SYN flood (backscatter), outgoing: a few records a minute.
        if (a.type === 'SYN' && !tpl && j < 8) {
          const answered = Math.max(1, Math.round(pkts * r.uniform(0.2, 0.6)));
          buf.add(
            r,
            t0 + Math.min(59_999, offset + 1 + r.int(100)),
            answered > 1 ? durMs : 0,
            victim.address,
            src,
            dp,
            sp,
            PROTO.TCP,
            18,
            answered,
            answered * (victim.v6 ? 64 : 44),
            -1,
          );
        }
      }
    }
  }
}
