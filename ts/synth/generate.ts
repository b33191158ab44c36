/**
 * The generator proper: minute by minute, every node's normal traffic, then the attacks running in
 * that minute, into one FlowBuffer. No I/O here: synth.ts writes what `minute()` returns.
 *
 * Each node, customer and attack draws from its own random stream (Rng.derive(seed, kind, index)),
 * so a node's traffic does not depend on the others, and the same seed always gives the same flows.
 */
import {
  cycleLevel,
  initialActivity,
  initialCustomerNoise,
  stepActivity,
  stepCustomerNoise,
  type NodeActivity,
} from './activity.js';
import { AttackRun, planEvents, type EventPlan } from './attacks.js';
import { buildFeeds, type Alert, type GroundTruth, type WindowTotals } from './alerts.js';
import { FlowBuffer } from './buffer.js';
import type { SynthConfig } from './config.js';
import { makeInventory, type Inventory } from './inventory.js';
import type { AttackTemplate } from './overlay.js';
import { Rng } from '../common/rng.js';
import { emitNodeMinute, PeerPool, peerChoice, stepSessions, type PeerChoice, type Session } from './traffic.js';
import { isoToMinute } from '../serialize/store.js';

interface Window {
  victim: number;
  start: number;
  end: number;
  totals: WindowTotals;
}

export class Generator {
  readonly inventory: Inventory;
  readonly plan: EventPlan;
  readonly startMinute: number;
  readonly buffer: FlowBuffer;
  private readonly peers: PeerChoice;
  private readonly nodeRng: Rng[];
  private readonly customerRng: Rng[];
  private readonly activity: NodeActivity[];
  private readonly sessions: Session[][];
  private readonly customerNoise: Float64Array;
  private readonly crowdFactor: Float64Array;
  private readonly runs: AttackRun[];
  private readonly attackWindows: Window[];
  private readonly crowdWindows: Window[];
  private next = 0;
  private nextCrowd = 0;
  private activeCrowds: EventPlan['crowds'] = [];
  private nextRun = 0;
  private activeRuns: AttackRun[] = [];
  private readonly windowsByStart = new Map<number, Window[]>();
  private activeWindows: Window[] = [];
  /** Records emitted so far, normal and attack (after sampling). */
  normalRecords = 0;
  attackRecords = 0;

  constructor(
    readonly cfg: SynthConfig,
    readonly templates: readonly AttackTemplate[] = [],
  ) {
    this.startMinute = isoToMinute(cfg.start);
    this.inventory = makeInventory(cfg);
    this.plan = planEvents(cfg, this.inventory, templates, this.startMinute);
    this.buffer = new FlowBuffer(this.inventory.nodes.length, cfg.sampling);
    this.peers = peerChoice(new PeerPool(cfg.seed));
    this.nodeRng = this.inventory.nodes.map((n) => Rng.derive(cfg.seed, 'node', n.index));
    this.customerRng = this.inventory.customers.map((c) => Rng.derive(cfg.seed, 'customer', c.index));
    this.activity = this.inventory.nodes.map((n, i) => initialActivity(this.nodeRng[i], n.role));
    this.sessions = this.inventory.nodes.map(() => []);
    this.customerNoise = Float64Array.from(this.customerRng, (r) => initialCustomerNoise(r));
    this.crowdFactor = new Float64Array(this.inventory.nodes.length);
    this.runs = this.plan.attacks.map((a) => new AttackRun(a, cfg.seed));
    const window = (victim: number, start: number, end: number): Window => ({
      victim,
      start,
      end,
      totals: { packets: 0, bytes: 0 },
    });
    this.attackWindows = this.plan.attacks.map((a) => window(a.victim, a.alertStart, a.alertEnd));
    this.crowdWindows = this.plan.crowds.map((c) => window(c.victim, c.alertStart, c.alertEnd));
    for (const w of [...this.attackWindows, ...this.crowdWindows]) {
      if (w.start < 0) continue; // a missed attack has no alert window
      const list = this.windowsByStart.get(w.start) ?? [];
      list.push(w);
      this.windowsByStart.set(w.start, list);
    }
  }

  get minutes(): number {
    return this.cfg.minutes;
  }

  /** The flows of the next minute (call it cfg.minutes times, in order). The buffer is reused. */
  minute(): FlowBuffer {
    const m = this.next++;
    if (m >= this.cfg.minutes) throw new Error('Generator.minute: past the last minute');
    const { nodes, customers } = this.inventory;
    const epochMinute = this.startMinute + m;
    const buf = this.buffer;
    buf.reset();

    for (let c = 0; c < customers.length; c++)
      this.customerNoise[c] = stepCustomerNoise(this.customerNoise[c], this.customerRng[c]);

    // Benign surges: the node's own traffic, ramping up over three minutes (crowds are sorted by start).
    this.crowdFactor.fill(1);
    while (this.nextCrowd < this.plan.crowds.length && this.plan.crowds[this.nextCrowd].start <= m)
      this.activeCrowds.push(this.plan.crowds[this.nextCrowd++]);
    this.activeCrowds = this.activeCrowds.filter((c) => m - c.start < c.duration);
    for (const c of this.activeCrowds)
      this.crowdFactor[c.victim] = Math.pow(c.factor, Math.min(1, (m - c.start + 1) / 3));

    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      const cycle = cycleLevel(node.role, epochMinute, customers[node.customer].tzOffset);
      const level =
        stepActivity(this.activity[i], node.role, cycle, this.customerNoise[node.customer], this.nodeRng[i]) *
        this.crowdFactor[i];
      this.sessions[i] = stepSessions(this.sessions[i], node, level, this.peers, this.nodeRng[i], m === 0);
      emitNodeMinute(
        node,
        this.sessions[i],
        level,
        epochMinute,
        m,
        this.cfg.maxFlowsPerNodeMinute * (this.crowdFactor[i] > 1 ? 4 : 1),
        this.peers,
        this.nodeRng[i],
        buf,
      );
    }
    const normal = buf.n;

    // Attacks (sorted by onset) running in this minute.
    while (this.nextRun < this.runs.length && this.runs[this.nextRun].plan.onset <= m)
      this.activeRuns.push(this.runs[this.nextRun++]);
    this.activeRuns = this.activeRuns.filter((r) => m - r.plan.onset < r.plan.duration);
    for (const r of this.activeRuns)
      r.emitMinute(
        m - r.plan.onset,
        nodes[r.plan.victim],
        epochMinute,
        this.cfg.maxAttackFlowsPerMinute,
        this.templates,
        buf,
      );
    this.normalRecords += normal;
    this.attackRecords += buf.n - normal;

    // Alert windows: the victim's incoming totals, for the reported volumes.
    for (const w of this.windowsByStart.get(m) ?? []) this.activeWindows.push(w);
    this.activeWindows = this.activeWindows.filter((w) => m <= w.end);
    for (const w of this.activeWindows) {
      w.totals.packets += buf.inPkts[w.victim];
      w.totals.bytes += buf.inBytes[w.victim];
    }
    return buf;
  }

  /** The alert feed and the ground truth (after the last minute). */
  feeds(): { alerts: Alert[]; groundTruth: GroundTruth[] } {
    if (this.next < this.cfg.minutes) throw new Error('Generator.feeds: the minutes are not all generated yet');
    return buildFeeds(
      this.cfg.seed,
      this.plan,
      this.runs,
      this.attackWindows.map((w) => w.totals),
      this.crowdWindows.map((w) => w.totals),
      this.inventory,
      this.startMinute,
    );
  }
}
