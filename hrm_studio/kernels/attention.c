/* Fused non-causal attention forward, float32, for head sizes that are multiples of 16 (<= 128).

   Why: HRM on 30x30 puzzles spends ~60 % of a training step in attention over 901 positions with
   head size 16. torch's CPU flash kernel runs that at about half this machine's fp32 matmul peak,
   half of its time going to softmax bookkeeping. Here, for each tile of 8 queries, the full score
   rows (8 x S floats) are kept in cache: scores = q.k^T by broadcast FMAs against K transposed,
   one max, one exp pass (a polynomial exp, ~1 ulp), then out = p.V with each V row one vector.
   No online rescaling is needed because a whole row fits. The result equals softmax(q k^T / sqrt(d)) v
   to float32 rounding. The log-sum-exp per query is returned for the backward below, which
   recomputes p tile by tile (flash-attention style) instead of storing it.

   Built at run time with the system C compiler (-O3 -march=native) by hrm_studio/kernels/build.py;
   GCC/Clang vector extensions, no intrinsics, so it compiles for any x86-64 or ARM target. With
   OpenMP the work runs on torch's own OpenMP threads; without it, on threads of its own. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- ABI: what hrm_studio/kernels/abi.py mirrors ---------------------------------------------
   Bump HRM_ATTENTION_ABI_VERSION with any change to an exported hrm_* function's name, arguments
   or status codes (and abi.py with it): the loader checks it and rebuilds a library that reports
   another version. Every entry point returns one of the HRM_* status codes below. */
#define HRM_ATTENTION_ABI_VERSION 1
#define HRM_OK 0          /* success */
#define HRM_UNSUPPORTED 1 /* the shape is not supported: the caller falls back to torch */
#define HRM_NO_MEMORY 2   /* scratch memory ran out: the outputs are incomplete */

/* The ABI version this library was built with (HRM_ATTENTION_ABI_VERSION). */
int hrm_attention_abi_version(void) { return HRM_ATTENTION_ABI_VERSION; }

typedef float v16 __attribute__((vector_size(64), aligned(64)));
typedef int v16i __attribute__((vector_size(64), aligned(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

#define ROWS 8 /* queries per tile: their score rows (8 × S floats) stay in L1/L2 */
#define LANES 16

static inline v16 splat(float x) { return (v16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }

static inline v16 vselect(v16i m, v16 a, v16 b) { return (v16)(((v16i)a & m) | ((v16i)b & ~m)); }

static inline v16 vmax(v16 a, v16 b) { return vselect(a > b, a, b); }

/* exp(x) = 2^n * exp(r) with |r| <= ln2/2, for x <= 0 (softmax after subtracting the row
   maximum; clamped at -87, where exp underflows anyway; a NaN stays NaN). Returns 2^n and sets
   *r; the callers differ only in the polynomial they use for exp(r). */
/* The reduction and the degree-7 polynomial, written once for every vector width (V its float
   vector type, VI the int one, SPLAT its broadcast); x already clamped at -87. */
#define EXP_REDUCE(V, VI, SPLAT, x, r, scale)                                                        \
    do {                                                                                          \
        const V magic_ = SPLAT(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */     \
        V t_ = (x) * SPLAT(1.44269504088896341f) + magic_;                                         \
        V n_ = t_ - magic_;                                                                       \
        (r) = (x) - n_ * SPLAT(0.693145751953125f) - n_ * SPLAT(1.428606765330187045e-06f);       \
        (scale) = (V)(((VI)t_ - (VI)magic_ + 127) << 23);                                         \
    } while (0)
#define EXP_POLY7(SPLAT, r, p)                                                                     \
    do {                                                                                          \
        (p) = SPLAT(1.0f / 5040.0f);                                                              \
        (p) = (p) * (r) + SPLAT(1.0f / 720.0f);                                                   \
        (p) = (p) * (r) + SPLAT(1.0f / 120.0f);                                                   \
        (p) = (p) * (r) + SPLAT(1.0f / 24.0f);                                                    \
        (p) = (p) * (r) + SPLAT(1.0f / 6.0f);                                                     \
        (p) = (p) * (r) + SPLAT(0.5f);                                                            \
        (p) = (p) * (r) + SPLAT(1.0f);                                                            \
        (p) = (p) * (r) + SPLAT(1.0f);                                                            \
    } while (0)

static inline v16 exp_reduce(v16 x, v16 *r) {
    x = vselect(x < splat(-87.0f), splat(-87.0f), x);
    v16 scale;
    EXP_REDUCE(v16, v16i, splat, x, *r, scale);
    return scale;
}

/* exp(x) for x <= 0; ~1 ulp (degree-7 Taylor polynomial). */
static inline v16 vexp(v16 x) {
    v16 r, p, scale = exp_reduce(x, &r);
    EXP_POLY7(splat, r, p);
    return p * scale;
}

/* exp(x) for x <= 0 to ~4e-5 relative error: enough where p is rounded to bfloat16 (8 bits of
   mantissa, 4e-3) right after; three fewer multiply-adds than vexp. */
static inline v16 vexp_bf16(v16 x) {
    v16 r, scale = exp_reduce(x, &r);
    v16 p = splat(1.0f / 24.0f);
    p = p * r + splat(1.0f / 6.0f);
    p = p * r + splat(0.5f);
    p = p * r + splat(1.0f);
    p = p * r + splat(1.0f);
    return p * scale;
}

/* Calls FN(args..., D) with D a compile-time constant for the common head sizes, so the inner
   loops unroll for them; one definition for every kernel variant. */
#define DISPATCH_HEAD_DIM(FN, D, ...)                                                                \
    do {                                                                                          \
        switch (D) {                                                                              \
        case 16: FN(__VA_ARGS__, 16); break;                                                      \
        case 32: FN(__VA_ARGS__, 32); break;                                                      \
        case 64: FN(__VA_ARGS__, 64); break;                                                      \
        default: FN(__VA_ARGS__, (D));                                                            \
        }                                                                                         \
    } while (0)

/* Horizontal maximum and sum of a vector, defined once per width. */
#define DEFINE_HORIZONTAL(HMAX, HSUM, V, N)                                                          \
    static inline float HMAX(V x) {                                                               \
        float m = x[0];                                                                           \
        for (int i = 1; i < (N); i++) m = x[i] > m ? x[i] : m;                                    \
        return m;                                                                                 \
    }                                                                                             \
    static inline float HSUM(V x) {                                                               \
        float s = 0.0f;                                                                           \
        for (int i = 0; i < (N); i++) s += x[i];                                                  \
        return s;                                                                                 \
    }

DEFINE_HORIZONTAL(hmax, hsum, v16, LANES)

/* RoPE on the adjacent pairs (x[2t], x[2t+1]) of one row at position pos, as the complex product
   (a + ib)(c + is) with c, s from [S][D/2] tables; q and k arrive in pair order (layers.rope_pair_order).
   NULL tables: a plain copy (no RoPE). */
static inline void rope_row(const float *x, float *y, long D, const float *cs, const float *sn, long pos) {
    if (!cs) {
        for (long d = 0; d < D; d++) y[d] = x[d];
        return;
    }
    const long half = D / 2;
    for (long t = 0; t < half; t++) {
        float a = x[2 * t], b = x[2 * t + 1], c = cs[pos * half + t], sv = sn[pos * half + t];
        y[2 * t] = a * c - b * sv;
        y[2 * t + 1] = a * sv + b * c;
    }
}

/* The transpose of rope_row (rotation by -angle), in place: turns a gradient with respect to the
   rotated row into one with respect to the row before RoPE. */
static inline void unrope_row(float *y, long D, const float *cs, const float *sn, long pos) {
    if (!cs) return;
    const long half = D / 2;
    for (long t = 0; t < half; t++) {
        float a = y[2 * t], b = y[2 * t + 1], c = cs[pos * half + t], sv = sn[pos * half + t];
        y[2 * t] = a * c + b * sv;
        y[2 * t + 1] = b * c - a * sv;
    }
}

/* ---- work split across threads ---------------------------------------------------------------
   Every entry point splits its items (one (batch, head) each, or a chunk of one) into contiguous
   slices, one per thread. With OpenMP the slices run on torch's own OpenMP runtime (same soname,
   already loaded), so torch's worker threads are not left spinning against threads of ours for
   the same cores; without it, on threads of our own. */

#define MAX_THREADS 64

/* Work on items [begin, end); HRM_OK on success, HRM_NO_MEMORY when its scratch buffers could not
   be allocated (the outputs are then incomplete and the caller must not use them). */
typedef int (*RangeFn)(const void *job, long begin, long end);

typedef struct {
    RangeFn fn;
    const void *job;
    long begin, end;
    int status;
} Slice;

static void *run_slice(void *arg) {
    Slice *slice = (Slice *)arg;
    slice->status = slice->fn(slice->job, slice->begin, slice->end);
    return NULL;
}

/* HRM_OK when every slice succeeded, else the first failure's status. */
static int parallel_items(RangeFn fn, const void *job, long items, int threads) {
    if (threads > items) threads = (int)items;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    Slice slices[MAX_THREADS];
    for (int t = 0; t < threads; t++) slices[t] = (Slice){fn, job, items * t / threads, items * (t + 1) / threads, 0};
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; t++) run_slice(&slices[t]);
#else
    pthread_t tids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 1; t < threads; t++) started[t] = pthread_create(&tids[t], NULL, run_slice, &slices[t]) == 0;
    run_slice(&slices[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t]) pthread_join(tids[t], NULL);
        else run_slice(&slices[t]);
    }
#endif
    for (int t = 0; t < threads; t++)
        if (slices[t].status) return slices[t].status;
    return HRM_OK;
}

/* Query chunks per (batch, head): enough items for every thread to get several. */
static long query_chunks(long bh, int threads) { return bh >= 4L * threads ? 1 : (4L * threads + bh - 1) / bh; }

typedef struct {
    const float *q, *k, *v;
    const float *cs, *sn;     /* RoPE tables [S][D/2], or NULL */
    long B, S, H, D;
    long qs[3], ks[3], vs[3]; /* strides (elements) for batch, position, head; head_dim is contiguous */
    float *out;               /* [B, S, H, D] contiguous */
    float *lse;               /* [B, H, S] */
    float scale;
    long chunks;
} Job;

/* Where one forward work item reads and writes: its (batch, head), the query rows [q0, q1) of its
   chunk, and the element offsets of that head's q / k / v rows. Written once for the float32
   paths (16- and 8-lane) and the bfloat16 one, whose jobs share these fields. */
typedef struct {
    long bh, b, h, q0, q1, qo, ko, vo;
} Item;

static inline Item job_item(long item, long chunks, long S, long H, const long qs[3], const long ks[3],
                            const long vs[3]) {
    Item it;
    it.bh = item / chunks;
    it.b = it.bh / H;
    it.h = it.bh % H;
    const long per = (S + chunks - 1) / chunks;
    it.q0 = (item % chunks) * per;
    it.q1 = it.q0 + per < S ? it.q0 + per : S;
    it.qo = it.b * qs[0] + it.h * qs[2];
    it.ko = it.b * ks[0] + it.h * ks[2];
    it.vo = it.b * vs[0] + it.h * vs[2];
    return it;
}
#define JOB_ITEM(j, item) job_item(item, (j)->chunks, (j)->S, (j)->H, (j)->qs, (j)->ks, (j)->vs)

/* The item's work with the head size D as an argument: inlined into run_item with D a constant
   for the common sizes, so the compiler unrolls the head-dimension loops (measured: ~7 %). */
static inline __attribute__((always_inline)) void run_item_d(const Job *j, long item, float *kt, float *scores,
                                                              long *kt_owner, const long D) {
    const long S = j->S, H = j->H;
    const long Sp = (S + LANES - 1) / LANES * LANES;
    const Item it = JOB_ITEM(j, item);
    const long bh = it.bh, b = it.b, h = it.h, q0 = it.q0, q1 = it.q1;
    const float *qb = j->q + it.qo, *kb = j->k + it.ko, *vb = j->v + it.vo;
    if (*kt_owner != bh) { /* K transposed to [D][Sp], padded keys score -inf via the max below */
        for (long s = 0; s < S; s++) {
            float row[128];
            rope_row(kb + s * j->ks[1], row, D, j->cs, j->sn, s);
            for (long d = 0; d < D; d++) kt[d * Sp + s] = row[d];
        }
        for (long s = S; s < Sp; s++)
            for (long d = 0; d < D; d++) kt[d * Sp + s] = 0.0f;
        *kt_owner = bh;
    }
    const long DV = D / LANES;
    for (long i0 = q0; i0 < q1; i0 += ROWS) {
        const long rows = q1 - i0 < ROWS ? q1 - i0 : ROWS;
        float qr[ROWS][128];
        for (long r = 0; r < ROWS; r++) {
            if (r < rows) rope_row(qb + (i0 + r) * j->qs[1], qr[r], D, j->cs, j->sn, i0 + r);
            for (long d = 0; d < D; d++) qr[r][d] = r < rows ? qr[r][d] * j->scale : 0.0f;
        }
        v16 mx[ROWS];
        for (long r = 0; r < ROWS; r++) mx[r] = splat(-INFINITY);
        for (long jb = 0; jb < Sp; jb += LANES) {
            v16 acc[ROWS];
            for (long r = 0; r < ROWS; r++) acc[r] = splat(0.0f);
            for (long d = 0; d < D; d++) {
                v16 kv = *(const v16 *)(kt + d * Sp + jb);
                for (long r = 0; r < ROWS; r++) acc[r] += qr[r][d] * kv;
            }
            if (jb + LANES > S) {
                for (long l = S - jb; l < LANES; l++)
                    for (long r = 0; r < ROWS; r++) acc[r][l] = -INFINITY;
            }
            for (long r = 0; r < ROWS; r++) {
                *(v16 *)(scores + r * Sp + jb) = acc[r];
                mx[r] = vmax(mx[r], acc[r]);
            }
        }
        float inv[ROWS];
        for (long r = 0; r < ROWS; r++) {
            float m = hmax(mx[r]);
            v16 mm = splat(m), sum = splat(0.0f);
            float *row = scores + r * Sp;
            for (long jb = 0; jb < Sp; jb += LANES) {
                                v16 p = vexp(*(v16 *)(row + jb) - mm);
                if (jb + LANES > S)
                    for (long l = S - jb; l < LANES; l++) p[l] = 0.0f;
                *(v16 *)(row + jb) = p;
                sum += p;
            }
            float l = hsum(sum);
            inv[r] = 1.0f / l;
            if (r < rows) j->lse[bh * S + i0 + r] = m + logf(l);
        }
        for (long dv = 0; dv < DV; dv++) {
            v16 acc[ROWS];
            for (long r = 0; r < ROWS; r++) acc[r] = splat(0.0f);
            for (long s = 0; s < S; s++) {
                v16 vv = *(const v16u *)(vb + s * j->vs[1] + dv * LANES);
                for (long r = 0; r < ROWS; r++) acc[r] += scores[r * Sp + s] * vv;
            }
            for (long r = 0; r < rows; r++) {
                float *o = j->out + ((b * S + i0 + r) * H + h) * D + dv * LANES;
                *(v16u *)o = acc[r] * inv[r];
            }
        }
    }
}

static void run_item(const Job *j, long item, float *kt, float *scores, long *kt_owner) {
    DISPATCH_HEAD_DIM(run_item_d, j->D, j, item, kt, scores, kt_owner);
}

/* One thread's slice of forward items with its own scratch: K (transposed, and V for the 8-lane
   path) of the (batch, head) it is on, kept while consecutive items share it, and one tile's scores. */
typedef void (*ItemFn)(const Job *j, long item, float *kt, float *scores, long *kt_owner);

static int forward_items(const Job *j, long begin, long end, ItemFn fn, long kt_floats, long score_floats) {
    float *kt = aligned_alloc(64, sizeof(float) * (size_t)kt_floats);
    float *scores = aligned_alloc(64, sizeof(float) * (size_t)score_floats);
    long owner = -1;
    const int ok = kt && scores;
    if (ok)
        for (long item = begin; item < end; item++) fn(j, item, kt, scores, &owner);
    free(kt);
    free(scores);
    return ok ? HRM_OK : HRM_NO_MEMORY;
}

static int run_job(const void *arg, long begin, long end) {
    const Job *j = (const Job *)arg;
    const long Sp = (j->S + LANES - 1) / LANES * LANES;
    return forward_items(j, begin, end, run_item, j->D * Sp, ROWS * Sp);
}

/* ---- backward ----------------------------------------------------------------------------
   Given dO, recompute p = exp(s - lse) tile by tile and accumulate
     dQ_i = scale * sum_j ds_ij k_j,  dK_j = scale * sum_i ds_ij q_i,  dV_j = sum_i p_ij dO_i,
   with ds_ij = p_ij (dO_i . v_j - dO_i . O_i). One (batch, head) per work item, so each thread
   owns the dK / dV rows it accumulates (no atomics; the result does not depend on threads). */

typedef struct {
    const float *q, *k, *v, *o, *g; /* g = dO */
    const float *cs, *sn;           /* RoPE tables [S][D/2], or NULL (q and k then need no rotation) */
    long qs[3], ks[3], vs[3], os[3], gs[3];
    const float *lse;               /* [B, H, S] */
    float *dq, *dk, *dv;            /* [B, S, H, D] contiguous */
    long B, S, H, D;
    float scale;
} BackJob;

static inline __attribute__((always_inline)) void back_item_d(const BackJob *j, long bh, float *kt, float *vt,
                                                               float *krot, float *pbuf, float *dsbuf, float *dkacc,
                                                               float *dvacc, const long D) {
    const long S = j->S, H = j->H;
    const long Sp = (S + LANES - 1) / LANES * LANES;
    const long b = bh / H, h = bh % H, DV = D / LANES;
    const float *qb = j->q + b * j->qs[0] + h * j->qs[2];
    const float *kb = j->k + b * j->ks[0] + h * j->ks[2];
    const float *vb = j->v + b * j->vs[0] + h * j->vs[2];
    const float *ob = j->o + b * j->os[0] + h * j->os[2];
    const float *gb = j->g + b * j->gs[0] + h * j->gs[2];
    for (long s = 0; s < Sp; s++) {
        if (s < S) rope_row(kb + s * j->ks[1], krot + s * D, D, j->cs, j->sn, s);
        for (long d = 0; d < D; d++) {
            kt[d * Sp + s] = s < S ? krot[s * D + d] : 0.0f;
            vt[d * Sp + s] = s < S ? vb[s * j->vs[1] + d] : 0.0f;
        }
    }
    memset(dkacc, 0, sizeof(float) * (size_t)(S * D));
    memset(dvacc, 0, sizeof(float) * (size_t)(S * D));
    for (long i0 = 0; i0 < S; i0 += ROWS) {
        const long rows = S - i0 < ROWS ? S - i0 : ROWS;
        float qr[ROWS][128], gr[ROWS][128], lse[ROWS], dd[ROWS];
        for (long r = 0; r < ROWS; r++) {
            float acc = 0.0f;
            if (r < rows) rope_row(qb + (i0 + r) * j->qs[1], qr[r], D, j->cs, j->sn, i0 + r);
            for (long d = 0; d < D; d++) {
                if (r < rows) {
                    qr[r][d] *= j->scale;
                    gr[r][d] = gb[(i0 + r) * j->gs[1] + d];
                    acc += gr[r][d] * ob[(i0 + r) * j->os[1] + d];
                } else {
                    qr[r][d] = 0.0f;
                    gr[r][d] = 0.0f;
                }
            }
            dd[r] = acc;
            lse[r] = r < rows ? j->lse[bh * S + i0 + r] : 0.0f;
        }
        for (long jb = 0; jb < Sp; jb += LANES) {
            v16 sc[ROWS], dp[ROWS];
            for (long r = 0; r < ROWS; r++) {
                sc[r] = splat(0.0f);
                dp[r] = splat(0.0f);
            }
            for (long d = 0; d < D; d++) {
                v16 kv = *(const v16 *)(kt + d * Sp + jb);
                v16 vv = *(const v16 *)(vt + d * Sp + jb);
                for (long r = 0; r < ROWS; r++) {
                    sc[r] += qr[r][d] * kv;
                    dp[r] += gr[r][d] * vv;
                }
            }
            for (long r = 0; r < ROWS; r++) {
                v16 p = vexp(sc[r] - splat(lse[r]));
                if (r >= rows) p = splat(0.0f);
                if (jb + LANES > S)
                    for (long l = S - jb; l < LANES; l++) p[l] = 0.0f;
                *(v16 *)(pbuf + r * Sp + jb) = p;
                *(v16 *)(dsbuf + r * Sp + jb) = p * (dp[r] - splat(dd[r]));
            }
        }
        for (long dv = 0; dv < DV; dv++) {
            v16 qv[ROWS], gv[ROWS], dq[ROWS];
            for (long r = 0; r < ROWS; r++) {
                qv[r] = *(const v16u *)(&qr[r][dv * LANES]);
                gv[r] = *(const v16u *)(&gr[r][dv * LANES]);
                dq[r] = splat(0.0f);
            }
            for (long s = 0; s < S; s++) {
                v16 krow = *(const v16u *)(krot + s * D + dv * LANES);
                v16 dka = *(v16u *)(dkacc + s * D + dv * LANES);
                v16 dva = *(v16u *)(dvacc + s * D + dv * LANES);
                for (long r = 0; r < ROWS; r++) {
                    float ds = dsbuf[r * Sp + s], p = pbuf[r * Sp + s];
                    dq[r] += ds * krow;
                    dka += ds * qv[r];
                    dva += p * gv[r];
                }
                *(v16u *)(dkacc + s * D + dv * LANES) = dka;
                *(v16u *)(dvacc + s * D + dv * LANES) = dva;
            }
            for (long r = 0; r < rows; r++)
                *(v16u *)(j->dq + ((b * S + i0 + r) * H + h) * D + dv * LANES) = dq[r] * j->scale;
        }
        for (long r = 0; r < rows; r++) unrope_row(j->dq + ((b * S + i0 + r) * H + h) * D, D, j->cs, j->sn, i0 + r);
    }
    for (long s = 0; s < S; s++) {
        unrope_row(dkacc + s * D, D, j->cs, j->sn, s);
        for (long dv = 0; dv < DV; dv++) {
            *(v16u *)(j->dk + ((b * S + s) * H + h) * D + dv * LANES) = *(v16u *)(dkacc + s * D + dv * LANES);
            *(v16u *)(j->dv + ((b * S + s) * H + h) * D + dv * LANES) = *(v16u *)(dvacc + s * D + dv * LANES);
        }
    }
}

static void back_item(const BackJob *j, long bh, float *kt, float *vt, float *krot, float *pbuf, float *dsbuf,
                      float *dkacc, float *dvacc) {
    DISPATCH_HEAD_DIM(back_item_d, j->D, j, bh, kt, vt, krot, pbuf, dsbuf, dkacc, dvacc);
}

static int run_back_job(const void *arg, long begin, long end) {
    const BackJob *j = (const BackJob *)arg;
    const long Sp = (j->S + LANES - 1) / LANES * LANES;
    const size_t n = (size_t)(j->D * Sp);
    float *kt = aligned_alloc(64, sizeof(float) * n), *vt = aligned_alloc(64, sizeof(float) * n);
    float *pbuf = aligned_alloc(64, sizeof(float) * (size_t)(ROWS * Sp));
    float *dsbuf = aligned_alloc(64, sizeof(float) * (size_t)(ROWS * Sp));
    float *dkacc = aligned_alloc(64, sizeof(float) * n), *dvacc = aligned_alloc(64, sizeof(float) * n);
    float *krot = aligned_alloc(64, sizeof(float) * n);
    const int ok = kt && vt && krot && pbuf && dsbuf && dkacc && dvacc;
    if (ok)
        for (long item = begin; item < end; item++) back_item(j, item, kt, vt, krot, pbuf, dsbuf, dkacc, dvacc);
    free(krot);
    free(kt);
    free(vt);
    free(pbuf);
    free(dsbuf);
    free(dkacc);
    free(dvacc);
    return ok ? HRM_OK : HRM_NO_MEMORY;
}

/* ---- AVX2 path (x86-64 CPUs without AVX-512) ---------------------------------------------------
   The same algorithm as above with 8-lane vectors (one ymm register each). Why separate: the
   16-lane code compiled for AVX2 turns every v16 into two ymm registers, and its 8-row tiles of
   score (and, in the backward, score and dp) accumulators then need 32 of the 16 registers: the
   spills made it 3-6x slower than torch's SDPA (measured on a Zen 3 EPYC). Here every register tile
   is 12 accumulators plus two loaded vectors and a broadcast (15 of 16 registers): 6 query rows x
   16 keys for the scores (each broadcast query value feeds two FMAs), 6 rows x 16 head dimensions
   for p.V, V copied contiguous once per (batch, head); the backward keeps 6 rows x 8 keys of scores
   and dp, then does dQ + dK (6 rows x 8 head dimensions each) and dV (6 x 16) in two passes over the
   keys. 6 rows measured ~20 % faster than 4 or 8. Results equal the 16-lane code's to rounding (the
   same exp; sums in another order). The AVX-512 build never compiles this section. */
#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
#include <immintrin.h>
#define FORWARD_JOB run_job8
#define BACKWARD_JOB run_back_job8

typedef float v8 __attribute__((vector_size(32), aligned(32)));
typedef int v8i __attribute__((vector_size(32), aligned(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));

#define ROWS8 6   /* query rows per register tile: 12 accumulators, two vectors of keys or values, a broadcast */
#define LANES8 8
#define KEYS8 16  /* keys per score tile (two vectors): each broadcast query value feeds two FMAs */

static inline v8 splat8(float x) { return (v8){x, x, x, x, x, x, x, x}; }

/* a > b ? a : b per lane (vmaxps; NaN in b comes through, as vmax above). */
static inline v8 vmax8(v8 a, v8 b) { return (v8)_mm256_max_ps((__m256)a, (__m256)b); }

/* vexp with 8 lanes: the same reduction and polynomial, so the same results lane by lane. */
static inline v8 vexp8(v8 x) {
    x = vmax8(splat8(-87.0f), x); /* NaN stays NaN */
    v8 r, p, scale;
    EXP_REDUCE(v8, v8i, splat8, x, r, scale);
    EXP_POLY7(splat8, r, p);
    return p * scale;
}

DEFINE_HORIZONTAL(hmax8, hsum8, v8, LANES8)

/* Lanes at or past key S (padding): 'pad' there, x elsewhere. */
static inline v8 pad_keys8(v8 x, long first, long S, float pad) {
    for (long l = 0; l < LANES8; l++)
        if (first + l >= S) x[l] = pad;
    return x;
}

/* q rows i0.. of one tile, rotated and scaled; rows past 'rows' are zero. */
static inline __attribute__((always_inline)) void query_tile8(const Job *j, const float *qb, long i0, long rows,
                                                               float qr[ROWS8][128], const long D) {
    for (long r = 0; r < ROWS8; r++) {
        if (r < rows) rope_row(qb + (i0 + r) * j->qs[1], qr[r], D, j->cs, j->sn, i0 + r);
        for (long d = 0; d < D; d++) qr[r][d] = r < rows ? qr[r][d] * j->scale : 0.0f;
    }
}

/* Scores of one tile into scores[r * Sp + key] (padding keys: -inf), then each row's maximum (a
   second pass over the row, in L1: tracking it in the key loop needs 6 more registers). */
static inline __attribute__((always_inline)) void scores8(const float *kt, float qr[ROWS8][128], float *scores,
                                                           long S, long Sp, float mrow[ROWS8], const long D) {
    for (long jb = 0; jb < Sp; jb += KEYS8) {
        v8 a[ROWS8], c[ROWS8];
        for (long r = 0; r < ROWS8; r++) a[r] = c[r] = splat8(0.0f);
        for (long d = 0; d < D; d++) {
            v8 k0 = *(const v8 *)(kt + d * Sp + jb), k1 = *(const v8 *)(kt + d * Sp + jb + LANES8);
            for (long r = 0; r < ROWS8; r++) {
                a[r] += qr[r][d] * k0;
                c[r] += qr[r][d] * k1;
            }
        }
        for (long r = 0; r < ROWS8; r++) {
            *(v8 *)(scores + r * Sp + jb) = a[r];
            *(v8 *)(scores + r * Sp + jb + LANES8) = c[r];
        }
    }
    /* Padding keys score -inf, written after the tiles: masking lanes inside the key loop kept
       the accumulators in memory (measured 1-9 % of a forward call, results unchanged). */
    for (long r = 0; r < ROWS8; r++)
        for (long s = S; s < Sp; s++) scores[r * Sp + s] = -INFINITY;
    for (long r = 0; r < ROWS8; r++) {
        v8 m0 = splat8(-INFINITY), m1 = m0;
        for (long jb = 0; jb < Sp; jb += KEYS8) {
            m0 = vmax8(m0, *(const v8 *)(scores + r * Sp + jb));
            m1 = vmax8(m1, *(const v8 *)(scores + r * Sp + jb + LANES8));
        }
        mrow[r] = hmax8(vmax8(m0, m1));
    }
}

/* kt: K transposed [D][Sp], then V copied contiguous [S][D] (the strided rows of V cost ~15 %). */
static inline __attribute__((always_inline)) void run_item8_d(const Job *j, long item, float *kt, float *scores,
                                                               long *kt_owner, const long D) {
    const long S = j->S, H = j->H;
    const long Sp = (S + KEYS8 - 1) / KEYS8 * KEYS8;
    const Item it = JOB_ITEM(j, item);
    const long bh = it.bh, b = it.b, h = it.h, q0 = it.q0, q1 = it.q1;
    const float *qb = j->q + it.qo, *kb = j->k + it.ko, *vb = j->v + it.vo;
    float *vc = kt + D * Sp;
    if (*kt_owner != bh) { /* padding keys zero (their scores become -inf) */
        for (long s = 0; s < Sp; s++) {
            float row[128] = {0};
            if (s < S) rope_row(kb + s * j->ks[1], row, D, j->cs, j->sn, s);
            for (long d = 0; d < D; d++) kt[d * Sp + s] = row[d];
            for (long d = 0; s < S && d < D; d++) vc[s * D + d] = vb[s * j->vs[1] + d];
        }
        *kt_owner = bh;
    }
    for (long i0 = q0; i0 < q1; i0 += ROWS8) {
        const long rows = q1 - i0 < ROWS8 ? q1 - i0 : ROWS8;
        float qr[ROWS8][128], m[ROWS8], inv[ROWS8];
        query_tile8(j, qb, i0, rows, qr, D);
        scores8(kt, qr, scores, S, Sp, m, D);
        for (long r = 0; r < ROWS8; r++) {
            v8 mm = splat8(m[r]), sum = splat8(0.0f);
            float *row = scores + r * Sp;
            for (long jb = 0; jb < Sp; jb += LANES8) {
                v8 p = vexp8(*(v8 *)(row + jb) - mm);
                if (jb + LANES8 > S) p = pad_keys8(p, jb, S, 0.0f);
                *(v8 *)(row + jb) = p;
                sum += p;
            }
            float l = hsum8(sum);
            inv[r] = 1.0f / l;
            if (r < rows) j->lse[bh * S + i0 + r] = m[r] + logf(l);
        }
        for (long dc = 0; dc < D; dc += 2 * LANES8) { /* out = p.V, 16 head dimensions at a time */
            v8 o0[ROWS8], o1[ROWS8];
            for (long r = 0; r < ROWS8; r++) o0[r] = o1[r] = splat8(0.0f);
            for (long s = 0; s < S; s++) {
                const float *vrow = vc + s * D + dc;
                v8 v0 = *(const v8u *)vrow, v1 = *(const v8u *)(vrow + LANES8);
                for (long r = 0; r < ROWS8; r++) {
                    float p = scores[r * Sp + s];
                    o0[r] += p * v0;
                    o1[r] += p * v1;
                }
            }
            for (long r = 0; r < rows; r++) {
                float *o = j->out + ((b * S + i0 + r) * H + h) * D + dc;
                *(v8u *)o = o0[r] * inv[r];
                *(v8u *)(o + LANES8) = o1[r] * inv[r];
            }
        }
    }
}

static void run_item8(const Job *j, long item, float *kt, float *scores, long *kt_owner) {
    DISPATCH_HEAD_DIM(run_item8_d, j->D, j, item, kt, scores, kt_owner);
}

static int run_job8(const void *arg, long begin, long end) {
    const Job *j = (const Job *)arg;
    const long Sp = (j->S + KEYS8 - 1) / KEYS8 * KEYS8;
    return forward_items(j, begin, end, run_item8, 2 * j->D * Sp, ROWS8 * Sp);
}

/* Backward scratch of one thread: K and V transposed [D][Sp], rotated K [S][D], p and ds of one
   tile [ROWS8][Sp], dK and dV accumulated [S][D]. */
typedef struct {
    float *kt, *vt, *krot, *pbuf, *dsbuf, *dkacc, *dvacc;
} Back8;

/* p and ds = p (dO.v - dO.O) of one tile into pbuf / dsbuf (zero for padding rows and keys). */
static inline __attribute__((always_inline)) void back_scores8(const Back8 *w, float qr[ROWS8][128],
                                                                float gr[ROWS8][128], const float lse[ROWS8],
                                                                const float dd[ROWS8], long rows, long S, long Sp,
                                                                const long D) {
    for (long jb = 0; jb < Sp; jb += LANES8) {
        v8 sc[ROWS8], dp[ROWS8];
        for (long r = 0; r < ROWS8; r++) sc[r] = dp[r] = splat8(0.0f);
        for (long d = 0; d < D; d++) {
            v8 kv = *(const v8 *)(w->kt + d * Sp + jb), vv = *(const v8 *)(w->vt + d * Sp + jb);
            for (long r = 0; r < ROWS8; r++) {
                sc[r] += qr[r][d] * kv;
                dp[r] += gr[r][d] * vv;
            }
        }
        for (long r = 0; r < ROWS8; r++) {
            v8 p = r < rows ? vexp8(sc[r] - splat8(lse[r])) : splat8(0.0f);
            if (jb + LANES8 > S) p = pad_keys8(p, jb, S, 0.0f);
            *(v8 *)(w->pbuf + r * Sp + jb) = p;
            *(v8 *)(w->dsbuf + r * Sp + jb) = p * (dp[r] - splat8(dd[r]));
        }
    }
}

/* dQ of one tile (into dq rows, scaled, before un-RoPE) and its share of dK and dV. */
static inline __attribute__((always_inline)) void back_products8(const Back8 *w, float qr[ROWS8][128],
                                                                  float gr[ROWS8][128], float *dq[ROWS8],
                                                                  long rows, float scale, long S, long Sp,
                                                                  const long D) {
    for (long dc = 0; dc < D; dc += LANES8) { /* dQ = ds.K and dK += ds^T.q, 8 head dimensions at a time */
        v8 qv[ROWS8], acc[ROWS8];
        for (long r = 0; r < ROWS8; r++) {
            qv[r] = *(const v8u *)(&qr[r][dc]);
            acc[r] = splat8(0.0f);
        }
        for (long s = 0; s < S; s++) {
            v8 krow = *(const v8u *)(w->krot + s * D + dc), dka = *(v8u *)(w->dkacc + s * D + dc);
            for (long r = 0; r < ROWS8; r++) {
                float ds = w->dsbuf[r * Sp + s];
                acc[r] += ds * krow;
                dka += ds * qv[r];
            }
            *(v8u *)(w->dkacc + s * D + dc) = dka;
        }
        for (long r = 0; r < rows; r++) *(v8u *)(dq[r] + dc) = acc[r] * scale;
    }
    for (long dc = 0; dc < D; dc += 2 * LANES8) { /* dV += p^T.dO, 16 head dimensions at a time */
        v8 g0[ROWS8], g1[ROWS8];
        for (long r = 0; r < ROWS8; r++) {
            g0[r] = *(const v8u *)(&gr[r][dc]);
            g1[r] = *(const v8u *)(&gr[r][dc + LANES8]);
        }
        for (long s = 0; s < S; s++) {
            float *dvs = w->dvacc + s * D + dc;
            v8 d0 = *(v8u *)dvs, d1 = *(v8u *)(dvs + LANES8);
            for (long r = 0; r < ROWS8; r++) {
                float p = w->pbuf[r * Sp + s];
                d0 += p * g0[r];
                d1 += p * g1[r];
            }
            *(v8u *)dvs = d0;
            *(v8u *)(dvs + LANES8) = d1;
        }
    }
}

static inline __attribute__((always_inline)) void back_item8_d(const BackJob *j, long bh, const Back8 *w,
                                                                const long D) {
    const long S = j->S, H = j->H;
    const long Sp = (S + LANES8 - 1) / LANES8 * LANES8;
    const long b = bh / H, h = bh % H;
    const float *qb = j->q + b * j->qs[0] + h * j->qs[2];
    const float *kb = j->k + b * j->ks[0] + h * j->ks[2];
    const float *vb = j->v + b * j->vs[0] + h * j->vs[2];
    const float *ob = j->o + b * j->os[0] + h * j->os[2];
    const float *gb = j->g + b * j->gs[0] + h * j->gs[2];
    for (long s = 0; s < Sp; s++) {
        if (s < S) rope_row(kb + s * j->ks[1], w->krot + s * D, D, j->cs, j->sn, s);
        for (long d = 0; d < D; d++) {
            w->kt[d * Sp + s] = s < S ? w->krot[s * D + d] : 0.0f;
            w->vt[d * Sp + s] = s < S ? vb[s * j->vs[1] + d] : 0.0f;
        }
    }
    memset(w->dkacc, 0, sizeof(float) * (size_t)(S * D));
    memset(w->dvacc, 0, sizeof(float) * (size_t)(S * D));
    for (long i0 = 0; i0 < S; i0 += ROWS8) {
        const long rows = S - i0 < ROWS8 ? S - i0 : ROWS8;
        float qr[ROWS8][128], gr[ROWS8][128], lse[ROWS8], dd[ROWS8], *dq[ROWS8];
        for (long r = 0; r < ROWS8; r++) {
            float acc = 0.0f;
            if (r < rows) rope_row(qb + (i0 + r) * j->qs[1], qr[r], D, j->cs, j->sn, i0 + r);
            for (long d = 0; d < D; d++) {
                qr[r][d] = r < rows ? qr[r][d] * j->scale : 0.0f;
                gr[r][d] = r < rows ? gb[(i0 + r) * j->gs[1] + d] : 0.0f;
                if (r < rows) acc += gr[r][d] * ob[(i0 + r) * j->os[1] + d];
            }
            dd[r] = acc;
            lse[r] = r < rows ? j->lse[bh * S + i0 + r] : 0.0f;
            dq[r] = j->dq + ((b * S + i0 + r) * H + h) * D;
        }
        back_scores8(w, qr, gr, lse, dd, rows, S, Sp, D);
        back_products8(w, qr, gr, dq, rows, j->scale, S, Sp, D);
        for (long r = 0; r < rows; r++) unrope_row(dq[r], D, j->cs, j->sn, i0 + r);
    }
    for (long s = 0; s < S; s++) {
        unrope_row(w->dkacc + s * D, D, j->cs, j->sn, s);
        for (long dc = 0; dc < D; dc += LANES8) {
            *(v8u *)(j->dk + ((b * S + s) * H + h) * D + dc) = *(v8u *)(w->dkacc + s * D + dc);
            *(v8u *)(j->dv + ((b * S + s) * H + h) * D + dc) = *(v8u *)(w->dvacc + s * D + dc);
        }
    }
}

static void back_item8(const BackJob *j, long bh, const Back8 *w) {
    DISPATCH_HEAD_DIM(back_item8_d, j->D, j, bh, w);
}

static int run_back_job8(const void *arg, long begin, long end) {
    const BackJob *j = (const BackJob *)arg;
    const long Sp = (j->S + LANES8 - 1) / LANES8 * LANES8;
    const size_t n = (size_t)(j->D * Sp), tile = (size_t)(ROWS8 * Sp);
    Back8 w = {aligned_alloc(64, sizeof(float) * n), aligned_alloc(64, sizeof(float) * n),
               aligned_alloc(64, sizeof(float) * n), aligned_alloc(64, sizeof(float) * tile),
               aligned_alloc(64, sizeof(float) * tile), aligned_alloc(64, sizeof(float) * n),
               aligned_alloc(64, sizeof(float) * n)};
    const int ok = w.kt && w.vt && w.krot && w.pbuf && w.dsbuf && w.dkacc && w.dvacc;
    if (ok)
        for (long item = begin; item < end; item++) back_item8(j, item, &w);
    free(w.kt);
    free(w.vt);
    free(w.krot);
    free(w.pbuf);
    free(w.dsbuf);
    free(w.dkacc);
    free(w.dvacc);
    return ok ? HRM_OK : HRM_NO_MEMORY;
}
#else
#define FORWARD_JOB run_job
#define BACKWARD_JOB run_back_job
#endif

int hrm_attention_backward(const float *q, const float *k, const float *v, const float *o, const float *g,
                           const long *qs, const long *ks, const long *vs, const long *os, const long *gs,
                           const float *lse, float *dq, float *dk, float *dv, long B, long S, long H, long D,
                           float scale, const float *rope_cos, const float *rope_sin, int threads) {
    if (D % LANES != 0 || D > 128 || S < 1 || threads < 1) return HRM_UNSUPPORTED;
    if (B * H == 0) return HRM_OK;
    const BackJob job = {q, k, v, o, g, rope_cos, rope_sin, {qs[0], qs[1], qs[2]}, {ks[0], ks[1], ks[2]},
                         {vs[0], vs[1], vs[2]}, {os[0], os[1], os[2]}, {gs[0], gs[1], gs[2]}, lse, dq, dk, dv,
                         B, S, H, D, scale};
    return parallel_items(BACKWARD_JOB, &job, B * H, threads);
}

/* ---- bfloat16 forward (CPUs with AVX512-BF16) ------------------------------------------------
   The same tiles as the float32 forward, with both products done by vdpbf16ps (pairs of bf16
   products summed into float32: twice the float32 FMA rate). K is stored as pairs of head
   dimensions per key, V as pairs of keys per head dimension, p is rounded to bf16 before p.V
   (as bf16 flash attention does); scores, max, exp, sums and lse stay float32. */
#if defined(__AVX512BF16__) && defined(__AVX512F__)
#include <immintrin.h>
#include <stdint.h>

static inline float bf2f(uint16_t x) {
    uint32_t u = (uint32_t)x << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f2bf(float f) { /* round to nearest even, as torch's .to(torch.bfloat16) */
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

typedef unsigned short v16us __attribute__((vector_size(32), aligned(2)));
typedef unsigned int v16ui __attribute__((vector_size(64)));

static inline v16 bf16_load(const uint16_t *x) {
    v16us raw;
    memcpy(&raw, x, sizeof raw);
    return (v16)(__builtin_convertvector(raw, v16ui) << 16);
}

static inline void bf16_store(uint16_t *y, v16 f) { /* round to nearest even; NaN stays NaN */
    v16ui u = (v16ui)f;
    v16ui rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    v16ui quiet = (u >> 16) | 0x40u;
    v16ui nan = (v16ui)((u & 0x7fffffffu) > 0x7f800000u);
    v16us out = __builtin_convertvector((quiet & nan) | (rounded & ~nan), v16us);
    memcpy(y, &out, sizeof out);
}

/* rope_row for a bf16 row: rotated in float32 and rounded back, as layers.rotate_pairs does.
   ``ce`` / ``se`` are the tables expanded to [S][D] for whole vectors: ce = (c, c), se = (-s, s)
   per pair, so y = x * ce + swap_pairs(x) * se. NULL: a plain copy. */
static inline void rope_row16(const uint16_t *x, uint16_t *y, long D, const float *ce, const float *se, long pos) {
    if (!ce) {
        memcpy(y, x, sizeof(uint16_t) * (size_t)D);
        return;
    }
    const v16i swap = {1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14};
    for (long d0 = 0; d0 < D; d0 += LANES) {
        v16 xv = bf16_load(x + d0);
        v16 c = *(const v16u *)(ce + pos * D + d0), sv = *(const v16u *)(se + pos * D + d0);
        bf16_store(y + d0, xv * c + __builtin_shuffle(xv, swap) * sv);
    }
}

/* ce / se of rope_row16 from the [S][D/2] cos / sin tables. */
static void expand_tables(const float *cs, const float *sn, long S, long D, float *ce, float *se) {
    const long half = D / 2;
    for (long pos = 0; pos < S; pos++)
        for (long t = 0; t < half; t++) {
            float c = cs[pos * half + t], sv = sn[pos * half + t];
            ce[pos * D + 2 * t] = c;
            ce[pos * D + 2 * t + 1] = c;
            se[pos * D + 2 * t] = -sv;
            se[pos * D + 2 * t + 1] = sv;
        }
}

typedef struct {
    const uint16_t *q, *k, *v;
    const float *cs, *sn;
    long B, S, H, D;
    long qs[3], ks[3], vs[3];
    uint16_t *out;
    float *lse;
    float scale;
    long chunks;
} Job16;

static inline __attribute__((always_inline)) void run_item16_d(const Job16 *j, long item, uint16_t *kp,
                                                                uint16_t *vp, float *scores, uint16_t *pb,
                                                                const float *ce, const float *se, long *owner,
                                                                const long D) {
    const long S = j->S, H = j->H;
    const long Sp = (S + 2 * LANES - 1) / (2 * LANES) * (2 * LANES); /* even key pairs, whole vectors */
    const Item it = JOB_ITEM(j, item);
    const long bh = it.bh, b = it.b, h = it.h, q0 = it.q0, q1 = it.q1, DV = D / LANES, DP = D / 2;
    const uint16_t *qb = j->q + it.qo, *kb = j->k + it.ko, *vb = j->v + it.vo;
    if (*owner != bh) {
        /* kp[(t * Sp + key) * 2 + e] = k[key][2t + e];  vp[((dv * Sp/2 + m) * 16 + d) * 2 + e] = v[2m + e][dv*16 + d] */
        for (long key = 0; key < Sp; key++) {
            uint16_t row[128] = {0};
            if (key < S) rope_row16(kb + key * j->ks[1], row, D, ce, se, key);
            for (long t = 0; t < DP; t++)
                for (long e = 0; e < 2; e++) kp[(t * Sp + key) * 2 + e] = row[2 * t + e];
        }
        const v16us zero = {0};
        const v16us lo = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
        const v16us hi = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
        for (long dv = 0; dv < DV; dv++)
            for (long m = 0; m < Sp / 2; m++) { /* interleave keys 2m and 2m+1, head dim by head dim */
                v16us a = zero, c = zero;
                if (2 * m < S) memcpy(&a, vb + 2 * m * j->vs[1] + dv * LANES, sizeof a);
                if (2 * m + 1 < S) memcpy(&c, vb + (2 * m + 1) * j->vs[1] + dv * LANES, sizeof c);
                v16us first = __builtin_shuffle(a, c, lo), second = __builtin_shuffle(a, c, hi);
                uint16_t *dst = vp + (dv * (Sp / 2) + m) * LANES * 2;
                memcpy(dst, &first, sizeof first);
                memcpy(dst + LANES, &second, sizeof second);
            }
        *owner = bh;
    }
    const __m512 scale = _mm512_set1_ps(j->scale);
    for (long i0 = q0; i0 < q1; i0 += ROWS) {
        const long rows = q1 - i0 < ROWS ? q1 - i0 : ROWS;
        uint32_t qr[ROWS][64];
        for (long r = 0; r < ROWS; r++) {
            uint16_t row[128] = {0};
            if (r < rows) rope_row16(qb + (i0 + r) * j->qs[1], row, D, ce, se, i0 + r);
            memcpy(qr[r], row, sizeof(uint16_t) * (size_t)D);
        }
        __m512 mx[ROWS];
        for (long r = 0; r < ROWS; r++) mx[r] = _mm512_set1_ps(-INFINITY);
        for (long jb = 0; jb < Sp; jb += LANES) {
            __m512 acc[ROWS];
            for (long r = 0; r < ROWS; r++) acc[r] = _mm512_setzero_ps();
            for (long t = 0; t < DP; t++) {
                __m512bh kv = (__m512bh)_mm512_load_si512((const void *)(kp + (t * Sp + jb) * 2));
                for (long r = 0; r < ROWS; r++)
                    acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_set1_epi32((int)qr[r][t]), kv);
            }
            for (long r = 0; r < ROWS; r++) {
                __m512 sc = _mm512_mul_ps(acc[r], scale);
                if (jb + LANES > S) {
                    __mmask16 valid = (__mmask16)(S - jb >= LANES ? 0xFFFF : ((1u << (S - jb > 0 ? S - jb : 0)) - 1u));
                    sc = _mm512_mask_blend_ps(valid, _mm512_set1_ps(-INFINITY), sc);
                }
                _mm512_store_ps(scores + r * Sp + jb, sc);
                mx[r] = _mm512_max_ps(mx[r], sc);
            }
        }
        float inv[ROWS];
        for (long r = 0; r < ROWS; r++) {
            float m = _mm512_reduce_max_ps(mx[r]);
            v16 mm = splat(m), sum = splat(0.0f);
            float *row = scores + r * Sp;
            for (long jb = 0; jb < Sp; jb += 2 * LANES) {
                v16 p0 = vexp_bf16(*(v16 *)(row + jb) - mm), p1 = vexp_bf16(*(v16 *)(row + jb + LANES) - mm);
                if (jb + 2 * LANES > S)
                    for (long l = 0; l < LANES; l++) {
                        if (jb + l >= S) p0[l] = 0.0f;
                        if (jb + LANES + l >= S) p1[l] = 0.0f;
                    }
                sum += p0 + p1;
                __m512bh packed = _mm512_cvtne2ps_pbh((__m512)p1, (__m512)p0);
                _mm512_store_si512((void *)(pb + r * Sp + jb), (__m512i)packed);
            }
            float l = hsum(sum);
            inv[r] = 1.0f / l;
            if (r < rows) j->lse[bh * S + i0 + r] = m + logf(l);
        }
        for (long dv = 0; dv < DV; dv++) {
            __m512 acc[ROWS];
            for (long r = 0; r < ROWS; r++) acc[r] = _mm512_setzero_ps();
            const uint16_t *vcol = vp + dv * (Sp / 2) * LANES * 2;
            for (long m = 0; m < Sp / 2; m++) {
                __m512bh vv = (__m512bh)_mm512_load_si512((const void *)(vcol + m * LANES * 2));
                for (long r = 0; r < ROWS; r++) {
                    uint32_t pair;
                    memcpy(&pair, pb + r * Sp + 2 * m, 4);
                    acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_set1_epi32((int)pair), vv);
                }
            }
            for (long r = 0; r < rows; r++) {
                __m256bh o = _mm512_cvtneps_pbh(_mm512_mul_ps(acc[r], _mm512_set1_ps(inv[r])));
                _mm256_storeu_si256((__m256i *)(j->out + ((b * S + i0 + r) * H + h) * D + dv * LANES), (__m256i)o);
            }
        }
    }
}

static void run_item16(const Job16 *j, long item, uint16_t *kp, uint16_t *vp, float *scores, uint16_t *pb,
                       const float *ce, const float *se, long *owner) {
    DISPATCH_HEAD_DIM(run_item16_d, j->D, j, item, kp, vp, scores, pb, ce, se, owner);
}

static int run_job16(const void *arg, long begin, long end) {
    const Job16 *j = (const Job16 *)arg;
    const long Sp = (j->S + 2 * LANES - 1) / (2 * LANES) * (2 * LANES);
    uint16_t *kp = aligned_alloc(64, sizeof(uint16_t) * (size_t)(j->D * Sp));
    uint16_t *vp = aligned_alloc(64, sizeof(uint16_t) * (size_t)(j->D * Sp));
    float *scores = aligned_alloc(64, sizeof(float) * (size_t)(ROWS * Sp));
    uint16_t *pb = aligned_alloc(64, sizeof(uint16_t) * (size_t)(ROWS * Sp));
    float *ce = NULL, *se = NULL;
    if (j->cs) {
        ce = malloc(sizeof(float) * (size_t)(j->S * j->D));
        se = malloc(sizeof(float) * (size_t)(j->S * j->D));
        if (ce && se) expand_tables(j->cs, j->sn, j->S, j->D, ce, se);
    }
    long owner = -1;
    const int ok = kp && vp && scores && pb && (!j->cs || (ce && se));
    if (ok)
        for (long item = begin; item < end; item++) run_item16(j, item, kp, vp, scores, pb, ce, se, &owner);
    free(ce);
    free(se);
    free(kp);
    free(vp);
    free(scores);
    free(pb);
    return ok ? HRM_OK : HRM_NO_MEMORY;
}

int hrm_attention_forward_bf16(const uint16_t *q, const uint16_t *k, const uint16_t *v, long B, long S, long H,
                               long D, const long *qs, const long *ks, const long *vs, uint16_t *out, float *lse,
                               float scale, const float *rope_cos, const float *rope_sin, int threads) {
    if (D % LANES != 0 || D > 128 || S < 1 || threads < 1) return HRM_UNSUPPORTED;
    if (B * H == 0) return HRM_OK;
    const Job16 job = {q, k, v, rope_cos, rope_sin, B, S, H, D, {qs[0], qs[1], qs[2]}, {ks[0], ks[1], ks[2]},
                       {vs[0], vs[1], vs[2]}, out, lse, scale, query_chunks(B * H, threads)};
    return parallel_items(run_job16, &job, B * H * job.chunks, threads);
}
#define HRM_HAS_BF16 1
#else
#define HRM_HAS_BF16 0
#endif

/* 1 when this build has the bfloat16 forward (the CPU has AVX512-BF16), else 0. */
int hrm_attention_has_bf16(void) { return HRM_HAS_BF16; }

/* Returns HRM_OK, HRM_UNSUPPORTED (the caller falls back) or HRM_NO_MEMORY (see the ABI section). */
int hrm_attention_forward(const float *q, const float *k, const float *v, long B, long S, long H, long D,
                          const long *qs, const long *ks, const long *vs, float *out, float *lse, float scale,
                          const float *rope_cos, const float *rope_sin, int threads) {
    if (D % LANES != 0 || D > 128 || S < 1 || threads < 1) return HRM_UNSUPPORTED;
    if (B * H == 0) return HRM_OK; /* nothing to compute */
    const Job job = {q, k, v, rope_cos, rope_sin, B, S, H, D, {qs[0], qs[1], qs[2]}, {ks[0], ks[1], ks[2]},
                     {vs[0], vs[1], vs[2]}, out, lse, scale, query_chunks(B * H, threads)};
    return parallel_items(FORWARD_JOB, &job, B * H * job.chunks, threads);
}
