/**
 * The PTE walks' hot loops as a WebAssembly module, assembled here from named opcodes (no
 * toolchain at build or run time). Both walks — kscand's hot_vma_idle_pte_entry() and NUMA
 * balancing's change_pte_range() — run over one scratch memory: pte-walk.ts copies a chunk of
 * the mm's typed arrays in, calls the loop, and copies what it changed back, so the typed
 * arrays stay the one source of truth (docs/simulation.md, "The PTE walks"). Every number is
 * computed with the same IEEE operations in the same order as the JavaScript rule it
 * replaces, so traces stay byte-identical.
 */
import * as mmConst from './mm.ts'

/** PTEs a call handles at most: one cond_resched() chunk of either walk. */
export const CHUNK = 1 << 12

// ---- the scratch memory's layout (byte offsets) -----------------------------------------

/** rate.ts's EXP1: 4096 f64. */
export const M_EXP1 = 0
/** rate.ts's MEAN_GAP_MS: 65536 f64. */
export const M_GAP = M_EXP1 + 4096 * 8
/** machine.toptier, one byte per node id. */
export const M_TOPTIER = M_GAP + 65536 * 8
/** kscand: accessed top-tier pages per node id (i32). */
export const M_TOPACC = M_TOPTIER + 256
/** kscand's counters out (i32, O_* below). */
export const M_OUT = M_TOPACC + 256 * 4
/** The chunk: node (u8), flags (u8), rateQ (u16), nextAccess (u32), _last_cpupid (u32). */
export const M_NODE = M_OUT + 64
export const M_FLAGS = M_NODE + CHUNK
export const M_RATEQ = M_FLAGS + CHUNK
export const M_NEXT = M_RATEQ + CHUNK * 2
export const M_CPUPID = M_NEXT + CHUNK * 4
/** kscand's queued pages (u32) and their nodes (u8); NUMA balancing's marked pages (u32). */
export const M_QPAGE = M_CPUPID + CHUNK * 4
export const M_QNID = M_QPAGE + CHUNK * 4
export const M_MARKED = M_QNID + CHUNK
const M_END = M_MARKED + CHUNK * 4
const WASM_PAGE = 65536
export const MEMORY_PAGES = Math.ceil(M_END / WASM_PAGE)

/** i32 slots at M_OUT, written at the end of walk(). */
export const O_TOP = 0
export const O_IDLE = 1
export const O_COLD = 2
export const O_QUEUED = 3
export const O_QUEUED_HOT = 4
export const O_HOT_SEEN = 5
export const O_SLOW_ACCESSED = 6
export const O_RNG = 7
/** W_LEFT after the walk: what it counted down. */
export const O_LEFT = 8

// ---- opcodes (the binary format of the WebAssembly core specification) -------------------

const I32 = 0x7f
const F64 = 0x7c
const I64 = 0x7e
const VOID = 0x40
const block = [0x02, VOID]
const loop = [0x03, VOID]
const if_ = [0x04, VOID]
const else_ = [0x05]
const end = [0x0b]
const br = (depth: number) => [0x0c, depth]
const brIf = (depth: number) => [0x0d, depth]
const get = (l: number) => [0x20, l]
const set = (l: number) => [0x21, l]
const tee = (l: number) => [0x22, l]
const i32 = (n: number) => [0x41, ...sleb(n)]
const i64c = (n: number) => [0x42, ...sleb64(BigInt(n))]
const f64 = (x: number) => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)]
const mem = (op: number, align: number, offset: number) => [op, align, ...uleb(offset)]
const load8 = (offset: number) => mem(0x2d, 0, offset)
const load16 = (offset: number) => mem(0x2f, 1, offset)
const load32 = (offset: number) => mem(0x28, 2, offset)
const loadF64 = (offset: number) => mem(0x2b, 3, offset)
const store8 = (offset: number) => mem(0x3a, 0, offset)
const store32 = (offset: number) => mem(0x36, 2, offset)
const eqz = [0x45]
const eq = [0x46]
const ne = [0x47]
const ltS = [0x48]
const geS = [0x4e]
const geU = [0x4f]
const leU = [0x4d]
const add = [0x6a]
const sub = [0x6b]
const mul = [0x6c]
const and = [0x71]
const or = [0x72]
const shl = [0x74]
const shrU = [0x76]
const fEq = [0x61]
const fCeil = [0x9b]
const fFloor = [0x9c]
const fAdd = [0xa0]
const fSub = [0xa1]
const fMul = [0xa2]
const fDiv = [0xa3]
const fFromU32 = [0xb8]
const i64TruncSatS = [0xfc, 0x06]
const i64LtU = [0x54]
const wrapI64 = [0xa7]
const select = [0x1b]

function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n) b |= 0x80
    out.push(b)
  } while (n)
  return out
}

function sleb(n: number): number[] {
  const out: number[] = []
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

function sleb64(n: bigint): number[] {
  const out: number[] = []
  for (;;) {
    const b = Number(n & 0x7fn)
    n >>= 7n
    if ((n === 0n && !(b & 0x40)) || (n === -1n && b & 0x40)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()]
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body]
/** `local += 1` and `local += <i32 on the stack>`. */
const inc = (l: number) => [...get(l), ...i32(1), ...add, ...set(l)]
const addTo = (l: number, value: number[]) => [...get(l), ...value, ...add, ...set(l)]

const PG_IDLE = mmConst.PG_IDLE
const PG_YOUNG = mmConst.PG_YOUNG
const PG_ACCESSED = mmConst.PG_YOUNG | mmConst.PG_REFERENCED
const PG_LRU = mmConst.PG_LRU
const PG_INVALID = mmConst.PG_INVALID
const NEVER = 0xffffffff

// ---- walk(): hot_vma_idle_pte_entry() over one chunk (pte-walk.ts walkPtes) -------------

// params
const W_N = 0
const W_BASE = 1
const W_NOW = 2
/** floor(nowRel) as a u32: nowRel stays in [0, 2³² − 1) (kernel.ts rebases well before). */
const W_NOW_U = 3
const W_HOTQ = 4
const W_CANQ = 5
/** nr_to_scan if it runs out in this chunk (1 … n), else 0: counts down, the walk stops at 0. */
const W_LEFT = 6
const W_RNG = 7
const W_SWEEP = 8
const W_SWEEP_START = 9
const W_NR_PAGES = 10
const WALK_PARAMS = [I32, I32, F64, I32, I32, I32, I32, I32, F64, F64, F64]
// locals
const J = 11
const F = 12
const ND = 13
const PREV_IDLE = 14
const ACC = 15
const TOP = 16
const IDLE = 17
const COLD = 18
const QUEUED = 19
const QUEUED_HOT = 20
const HOT_SEEN = 21
const SLOW_ACC = 22
const HOT = 23
const PHASE = 24
const NEXT64 = 25
const WALK_LOCALS = [
  [13, I32],
  [1, F64],
  [1, I64],
]

/**
 * The next access after nowRel, as an f64 on the stack: access.ts nextAccessAfter(), inlined,
 * for a Poisson workload (sweepMs = 0) or a sequential sweep.
 */
const nextAccessAfter = (poisson: boolean) =>
  poisson
    ? [
        // rng = rng * 1664525 + 1013904223; nowRel + ceil(EXP1[rng >>> 20] * MEAN_GAP_MS[q])
        ...get(W_NOW),
        ...get(W_RNG),
        ...i32(1664525),
        ...mul,
        ...i32(1013904223),
        ...add,
        ...tee(W_RNG),
        ...i32(20),
        ...shrU,
        ...i32(3),
        ...shl,
        ...loadF64(M_EXP1),
        ...get(J),
        ...i32(1),
        ...shl,
        ...load16(M_RATEQ),
        ...i32(3),
        ...shl,
        ...loadF64(M_GAP),
        ...fMul,
        ...fCeil,
        ...fAdd,
      ]
    : [
        ...get(W_SWEEP),
        ...f64(Number.POSITIVE_INFINITY),
        ...fEq,
        ...[0x04, F64], // if (result f64): an idle sweep never accesses
        ...f64(NEVER),
        ...else_,
        // phase = sweepStartRel + (i * period) / nrPages
        ...get(W_SWEEP_START),
        ...get(W_BASE),
        ...get(J),
        ...add,
        ...fFromU32,
        ...get(W_SWEEP),
        ...fMul,
        ...get(W_NR_PAGES),
        ...fDiv,
        ...fAdd,
        ...tee(PHASE),
        // ceil(phase + (floor((nowRel - phase) / period) + 1) * period)
        ...get(W_NOW),
        ...get(PHASE),
        ...fSub,
        ...get(W_SWEEP),
        ...fDiv,
        ...fFloor,
        ...f64(1),
        ...fAdd,
        ...get(W_SWEEP),
        ...fMul,
        ...fAdd,
        ...fCeil,
        ...end,
      ]

/**
 * nextAccess[j] = ToUint32(Math.min(next, NEVER)) for the f64 `next` on the stack. `next` is
 * never below nowRel − 1 ≥ −1 nor NaN, so this is min(trunc(next), NEVER) in 64 bits.
 */
const storeNext = [
  ...i64TruncSatS,
  ...set(NEXT64),
  ...get(J),
  ...i32(2),
  ...shl,
  ...get(NEXT64),
  ...i64c(NEVER),
  ...get(NEXT64),
  ...i64c(NEVER),
  ...i64LtU,
  ...select,
  ...wrapI64,
  ...store32(M_NEXT),
]

/** The loop over PTEs [0, n) of the chunk; the same code for both workloads but the draw. */
const walkLoop = (poisson: boolean) => [
  ...block, // $done
  ...loop, // $pte
  ...get(J),
  ...get(W_N),
  ...geU,
  ...brIf(1),
  ...block, // $next: `continue`
  ...get(J),
  ...load8(M_FLAGS),
  ...tee(F),
  ...i32(PG_INVALID),
  ...and,
  ...brIf(0), // is_valid_folio()
  ...get(F),
  ...i32(PG_IDLE),
  ...and,
  ...i32(0),
  ...ne,
  ...set(PREV_IDLE),
  // folio_set_idle(); ptep_clear_young_notify(): if young, folio_clear_idle + set_young.
  ...get(J),
  ...i32(2),
  ...shl,
  ...load32(M_NEXT),
  ...get(W_NOW_U),
  ...leU,
  ...tee(ACC),
  ...if_,
  ...get(F),
  ...i32(~PG_IDLE),
  ...and,
  ...i32(PG_YOUNG),
  ...or,
  ...set(F),
  ...nextAccessAfter(poisson),
  ...storeNext,
  ...else_,
  ...get(F),
  ...i32(PG_IDLE),
  ...or,
  ...set(F),
  ...end,
  ...get(J),
  ...get(F),
  ...store8(M_FLAGS),
  // if (--nrToScan === 0) { j++; break }
  ...get(W_LEFT),
  ...i32(1),
  ...sub,
  ...tee(W_LEFT),
  ...eqz,
  ...if_,
  ...inc(J),
  ...br(3),
  ...end,
  ...get(F),
  ...i32(PG_LRU),
  ...and,
  ...eqz,
  ...brIf(0),
  ...get(J),
  ...load8(M_NODE),
  ...tee(ND),
  ...load8(M_TOPTIER),
  ...if_,
  ...inc(TOP),
  // folio_test_young() || folio_test_referenced() || pte_young(): a set A bit set PG_young.
  ...get(F),
  ...i32(PG_ACCESSED),
  ...and,
  ...if_,
  ...get(ND),
  ...i32(2),
  ...shl,
  ...get(ND),
  ...i32(2),
  ...shl,
  ...load32(M_TOPACC),
  ...i32(1),
  ...add,
  ...store32(M_TOPACC),
  ...end,
  ...br(1),
  ...end,
  // slow tier
  ...get(J),
  ...i32(1),
  ...shl,
  ...load16(M_RATEQ),
  ...get(W_HOTQ),
  ...geS,
  ...set(HOT),
  ...addTo(HOT_SEEN, get(HOT)),
  // !folio_test_idle() && accessed in the previous scan too: the A bit was set now (which
  // cleared PG_idle and set PG_young) and PG_idle was clear before.
  ...get(ACC),
  ...get(PREV_IDLE),
  ...eqz,
  ...and,
  ...if_,
  ...inc(SLOW_ACC),
  // kzalloc(GFP_NOWAIT) of a kscand_migrate_info; failure just skips the page.
  ...get(QUEUED),
  ...get(W_CANQ),
  ...ltS,
  ...if_,
  ...get(QUEUED),
  ...i32(2),
  ...shl,
  ...get(W_BASE),
  ...get(J),
  ...add,
  ...store32(M_QPAGE),
  ...get(QUEUED),
  ...get(ND),
  ...store8(M_QNID),
  ...inc(QUEUED),
  ...addTo(QUEUED_HOT, get(HOT)),
  ...end,
  ...else_,
  ...addTo(COLD, get(PREV_IDLE)),
  ...inc(IDLE),
  ...end,
  ...end, // $next
  ...inc(J),
  ...br(0),
  ...end, // $pte
  ...end, // $done
]

const walkBody = [
  ...get(W_SWEEP),
  ...f64(0),
  ...fEq,
  ...if_,
  ...walkLoop(true),
  ...else_,
  ...walkLoop(false),
  ...end,
  ...[
    O_TOP,
    O_IDLE,
    O_COLD,
    O_QUEUED,
    O_QUEUED_HOT,
    O_HOT_SEEN,
    O_SLOW_ACCESSED,
    O_RNG,
    O_LEFT,
  ].flatMap((slot, k) => [
    ...i32(slot * 4),
    ...get([TOP, IDLE, COLD, QUEUED, QUEUED_HOT, HOT_SEEN, SLOW_ACC, W_RNG, W_LEFT][k]),
    ...store32(M_OUT),
  ]),
  ...get(J),
  ...end,
]

// ---- protNuma(): change_pte_range() for prot_numa over one chunk ------------------------

// params
const P_N = 0
const P_BASE = 1
const P_TARGET = 2
const P_NORMAL = 3
const P_TIERING = 4
const P_STAMP = 5
const P_REFRESH = 6
const PROT_PARAMS = [I32, I32, I32, I32, I32, I32, I32]
// locals
const PJ = 7
const PF = 8
const PND = 9
const PTOP = 10
const PCOUNT = 11
const PROT_LOCALS = [[5, I32]]
const PROTNONE = mmConst.PTE_PROTNONE
const SHARED = mmConst.PG_SHARED

/** _last_cpupid[j] = stamp */
const stampCpupid = [...get(PJ), ...i32(2), ...shl, ...get(P_STAMP), ...store32(M_CPUPID)]

const protBody = [
  ...block, // $done
  ...loop, // $pte
  ...get(PJ),
  ...get(P_N),
  ...geU,
  ...brIf(1),
  ...block, // $next
  ...get(PJ),
  ...load8(M_FLAGS),
  ...tee(PF),
  ...i32(PROTNONE),
  ...and,
  ...if_,
  // already PROT_NONE: the time is refreshed only when the quirk is off
  ...get(P_REFRESH),
  ...get(P_TIERING),
  ...and,
  ...if_,
  ...get(PJ),
  ...load8(M_NODE),
  ...load8(M_TOPTIER),
  ...eqz,
  ...if_,
  ...stampCpupid,
  ...end,
  ...end,
  ...br(1),
  ...end,
  ...get(PF),
  ...i32(SHARED),
  ...and,
  ...brIf(0),
  ...get(PJ),
  ...load8(M_NODE),
  ...tee(PND),
  ...get(P_TARGET),
  ...eq,
  ...brIf(0),
  ...get(PND),
  ...load8(M_TOPTIER),
  ...tee(PTOP),
  ...get(P_NORMAL),
  ...eqz,
  ...and,
  ...brIf(0),
  ...get(P_TIERING),
  ...get(PTOP),
  ...eqz,
  ...and,
  ...if_,
  ...stampCpupid,
  ...end,
  ...get(PJ),
  ...get(PF),
  ...i32(PROTNONE),
  ...or,
  ...store8(M_FLAGS),
  ...get(PCOUNT),
  ...i32(2),
  ...shl,
  ...get(P_BASE),
  ...get(PJ),
  ...add,
  ...store32(M_MARKED),
  ...inc(PCOUNT),
  ...end, // $next
  ...inc(PJ),
  ...br(0),
  ...end, // $pte
  ...end, // $done
  ...get(PCOUNT),
  ...end,
]

// ---- the module ---------------------------------------------------------------------------

const funcType = (params: number[]) => [0x60, ...vec(params.map((p) => [p])), 1, I32]
const locals = (groups: number[][]) => vec(groups.map(([n, t]) => [...uleb(n), t]))
const body = (groups: number[][], code: number[]) => {
  const b = [...locals(groups), ...code]
  return [...uleb(b.length), ...b]
}
const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]))

/** The module's bytes: memory 0 (exported as `memory`), `walk` and `protNuma`. */
export const WALK_WASM = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, vec([funcType(WALK_PARAMS), funcType(PROT_PARAMS)])),
  ...section(3, vec([[0], [1]])),
  ...section(5, vec([[0x01, ...uleb(MEMORY_PAGES), ...uleb(MEMORY_PAGES)]])),
  ...section(
    7,
    vec([
      [...name('memory'), 0x02, 0],
      [...name('walk'), 0x00, 0],
      [...name('protNuma'), 0x00, 1],
    ]),
  ),
  ...section(10, vec([body(WALK_LOCALS, walkBody), body(PROT_LOCALS, protBody)])),
])
