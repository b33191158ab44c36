/**
 * Where a flow record becomes features: the pure arithmetic of SPEC §1. One direction of one flow
 * adds its packets, bytes and flow count to a node-minute's 86-feature vector.
 */
import { OFFSETS, flagClass, portClass, protocolClass } from '../catalogue/features.js';
import type { FlowRecord } from '../ingest/record.js';

/**
 * Adds one direction of a flow to the feature vector starting at `acc[o]`.
 * @param incoming true when the node is the destination (port = destination port), false when it is the
 *   source (port = source port; TCP flags are counted for outgoing flows only).
 * @param flags cumulative TCP flag byte of this direction, -1 when unknown (then no flag feature counts it).
 */
export function addDirection(
  acc: Float64Array,
  o: number,
  incoming: boolean,
  proto: number,
  port: number,
  flags: number,
  pkts: number,
  bytes: number,
  flows: number,
): void {
  const d = incoming ? 0 : 1;
  const v = o + OFFSETS.volume[d];
  acc[v] += pkts;
  acc[v + 1] += bytes;
  acc[v + 2] += flows;
  const pc = protocolClass(proto);
  const p = o + OFFSETS.protocol[d] + 3 * pc;
  acc[p] += pkts;
  acc[p + 1] += bytes;
  acc[p + 2] += flows;
  const q = o + OFFSETS.port[d] + 3 * portClass(port, pc === 1 || pc === 2);
  acc[q] += pkts;
  acc[q + 1] += bytes;
  acc[q + 2] += flows;
  if (!incoming && pc === 1 && flags >= 0) {
    const fc = flagClass(flags);
    if (fc >= 0) acc[o + OFFSETS.flag + fc] += flows;
  }
}

/**
 * Adds a whole record to the feature vectors of its source node (`src` at `srcO`; `src` null when
 * the source is no node) and of its destination node. `scale` multiplies packets, bytes and flows
 * (packet sampling 1:N); `share` is the part of the record's packets and bytes that falls in this
 * minute (1 unless long flows are spread over the minutes they span); the flow itself counts once,
 * in its start minute (`countFlow`).
 */
export function addRecord(
  rec: FlowRecord,
  src: Float64Array | null,
  srcO: number,
  dst: Float64Array | null,
  dstO: number,
  scale: number,
  share = 1,
  countFlow = true,
): void {
  const k = scale * share;
  const fwdFlows = countFlow ? scale : 0;
  if (dst !== null) addDirection(dst, dstO, true, rec.proto, rec.dp, rec.flags, rec.pkts * k, rec.bytes * k, fwdFlows);
  if (src !== null) addDirection(src, srcO, false, rec.proto, rec.sp, rec.flags, rec.pkts * k, rec.bytes * k, fwdFlows);
  if (rec.rpkts > 0 || rec.rbytes > 0) {
    const revFlows = countFlow && rec.rpkts > 0 ? scale : 0;
    if (src !== null)
      addDirection(src, srcO, true, rec.proto, rec.sp, rec.rflags, rec.rpkts * k, rec.rbytes * k, revFlows);
    if (dst !== null)
      addDirection(dst, dstO, false, rec.proto, rec.dp, rec.rflags, rec.rpkts * k, rec.rbytes * k, revFlows);
  }
}
