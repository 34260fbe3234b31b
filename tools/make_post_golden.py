#!/usr/bin/python3
"""Writes tests/golden/post/: detections of the OFFICIAL AICL inference() post-processing on synthetic videos.

The official inference_thumos.inference() runs unchanged (loaded at run time through
/work/shared/oracle/aicl_official.py, GPU semantics: .cpu() copies, quirk Q1) on a stand-in network that
returns hand-made cas / action_flow / action_rgb tensors, and a stand-in loader.  The official evaluator
call is replaced by a no-op; the official result JSON (temp_result.json) is read back.

What is captured per video: `combined_cas` (the return value of the official
misc_utils.instance_selection_function) and `score_supp` (the official F.softmax(cas_top, dim=1) call),
both float32, and the official detections (label index, score, t_start, t_end, as float64 exactly).

Also written: numpy argsort tie orders and numpy means (pairwise / 8192-chunked summation) on arrays that
the C++ test regenerates from integer formulas, and the official act_thresh values.

Usage:  OFFICIAL_AICL=/work/.mirror/lizhilin-ustc+AAAI2023-AICL/repo /usr/bin/python3 tools/make_post_golden.py [OUT_DIR] [--libm-exp] [--time-official=N]
Outputs (OUT_DIR defaults to tests/golden/post): inputs.f32 (float32 little-endian), golden.json.
--libm-exp: the official basnet_nms gets math.exp (libm) instead of np.exp (Intel SVML on AVX-512 CPUs with
numpy 1.24), to show that the soft-NMS decay is the only source of last-bit differences (a diagnostic; the
committed golden files use the unmodified official code).
--time-official N: also time the official inference() over N videos that cycle through the three T=750
videos (the stand-in network's forward is trivial, so this is the official post-processing time), and print it.
"""
import json
import os
import sys
import tempfile
import types

ORACLE_DIR = os.environ.get('AICL_ORACLE_DIR', '/work/shared/oracle')
sys.path.insert(0, ORACLE_DIR)
import aicl_official as ao  # noqa: E402

C = 20


def smooth(x, width):
    import numpy as np
    k = np.ones(width) / width
    return np.convolve(x, k, mode='same')


def make_video(np, rng, T, gt, weak=(), noise=0.3, long_class=None, bump_len=None):
    """cas [T,C], flow [T], rgb [T] as float32: GT classes get bumps, `weak` classes smaller ones."""
    lo, hi = bump_len if bump_len else (max(2, T // 60), max(4, T // 12))
    cas = np.empty((T, C))
    for c in range(C):
        cas[:, c] = -1.0 + smooth(rng.normal(size=T) * noise, 9) * 3.0
    act = np.zeros(T)
    for c, amp in [(c, 4.0) for c in gt] + [(c, 2.2) for c in weak]:
        for _ in range(max(2, T // 120)):
            L = int(rng.integers(lo, hi))
            s = int(rng.integers(0, T - L))
            shape = np.zeros(T)
            shape[s:s + L] = amp
            shape = smooth(shape, 5)
            cas[:, c] += shape
            act = np.maximum(act, shape / 4.0)
    if long_class is not None:  # one action over most of the video: proposals longer than 8192 points
        shape = np.zeros(T)
        shape[T // 15: T - T // 15] = 3.5
        cas[:, long_class] += smooth(shape, 7)
        act = np.maximum(act, shape / 4.0)
    flow = 1 / (1 + np.exp(-(4 * act - 1.5 + smooth(rng.normal(size=T), 5))))
    rgb = 1 / (1 + np.exp(-(4 * act - 1.2 + smooth(rng.normal(size=T), 7))))
    return cas.astype(np.float32), flow.astype(np.float32), rgb.astype(np.float32)


def make_tie_video(np, T):
    """Class 9: three identical bumps, and a first segment so high that at threshold 0.9 only upsampled
    index 0 passes (the official `temp_list.any()` then skips the class).  Class 4: combined >= 0.4
    everywhere, so thresholds 0.1, 0.2, 0.3 all give the whole-video proposal (exact duplicates, empty
    outer region)."""
    cas = np.full((T, C), -2.0)
    cas[:, 4] = 9.0
    flow = np.full(T, 0.1)
    rgb = np.full(T, 0.1)
    cas[0, 9] = 12.0
    flow[0] = rgb[0] = 0.88
    for start in (8, 20, 32):
        cas[start:start + 6, 9] = 9.5
        flow[start:start + 6] = 0.7
        rgb[start:start + 6] = 0.6
    return cas.astype(np.float32), flow.astype(np.float32), rgb.astype(np.float32)


def make_flat_video(np, rng, T):
    """No class reaches softmax 0.25: the official falls back to the argmax (class 13 here)."""
    cas = (rng.normal(size=(T, C)) * 0.05).astype(np.float64)
    cas[:, 13] += 0.3
    cas[T // 3: T // 2, 13] += 0.8
    flow = 1 / (1 + np.exp(-np.where((np.arange(T) >= T // 3) & (np.arange(T) < T // 2), 1.5, -1.0)))
    rgb = flow * 0.9
    return cas.astype(np.float32), flow.astype(np.float32), rgb.astype(np.float32)


def argsort_cases(np, rng):
    """Tie-heavy float64 arrays and numpy's argsort (default quicksort) of each."""
    cases = []
    for n in [1, 2, 5, 15, 16, 17, 18, 31, 33, 64, 100, 257, 600]:
        for kind in ('zeros', 'few', 'sorted', 'reversed'):
            if kind == 'zeros':
                v = np.zeros(n)
            else:
                v = rng.integers(0, max(2, n // 5), size=n) * 0.25
                if kind == 'sorted':
                    v = np.sort(v)
                elif kind == 'reversed':
                    v = np.sort(v)[::-1].copy()
            cases.append({'values': [float(x) for x in v], 'order': [int(i) for i in np.argsort(v)]})
    return cases


def nms_cases(O, np, rng):
    """Official basnet_nms (soft and hard) on proposal lists with tied scores, duplicates, short segments."""
    cases = []
    for n, grid in [(1, 4), (2, 4), (12, 3), (25, 4), (40, 6), (80, 10), (150, 30)]:
        for soft in (True, False):
            props = []
            for _ in range(n):
                a = float(rng.integers(0, grid)) * 0.4
                b = a + float(rng.integers(1, 4)) * 0.3
                props.append([7, float(rng.integers(0, 4)) * 0.125 - 0.1, a, b])
            if n > 2:
                props[1] = list(props[0])  # an exact duplicate
            out = O.misc.basnet_nms([list(p) for p in props], 0.4, soft, 0.35)
            cases.append({'soft': soft, 'proposals': props, 'expected': [[float(x) for x in p] for p in out]})
    return cases


def mean_cases(np):
    """np.mean of x[i] = ((i * 7919) % 1000) / 997 + 1e6 * (i % 3 == 0), i < n (exact in any IEEE double)."""
    out = []
    for n in [1, 3, 7, 8, 9, 100, 128, 129, 1000, 8191, 8192, 8193, 17000, 18000]:
        i = np.arange(n)
        x = ((i * 7919) % 1000) / 997.0 + 1e6 * (i % 3 == 0)
        out.append({'n': n, 'mean': float(np.mean(x)), 'sequential_mean': float(sum(x.tolist()) / n)})
    return out


class _NumpyWithLibmExp(object):
    """numpy, except that exp is math.exp element by element."""
    def __init__(self, np):
        self._np = np

    def __getattr__(self, name):
        return getattr(self._np, name)

    def exp(self, x):
        import math
        return self._np.vectorize(math.exp, otypes=[float])(x)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    libm_exp = '--libm-exp' in sys.argv[1:]
    time_n = 0
    for a in sys.argv[1:]:
        if a.startswith('--time-official='):
            time_n = int(a.split('=', 1)[1])
    out_dir = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'golden', 'post')
    O = ao.load(threads=1, gpu_semantics=True)
    np, torch = O.np, O.torch
    if libm_exp:
        O.misc.np = _NumpyWithLibmExp(np)
    rng = np.random.default_rng(20261124)

    videos = []  # (name, T, v_len, labels, cas, flow, rgb)

    def add(name, T, v_len, labels, arrays):
        lab = np.zeros(C, dtype=np.float32)
        lab[list(labels)] = 1
        videos.append((name, T, v_len, lab) + arrays)

    add('video_test_long_a', 750, 1713, [3, 11], make_video(np, rng, 750, [3, 11], weak=[5]))
    add('video_test_long_b', 750, 620, [7], make_video(np, rng, 750, [7]))
    add('video_test_long_c', 750, 5420, [2, 15, 16],
        make_video(np, rng, 750, [2, 16], weak=[15], long_class=15))
    add('video_test_short_a', 64, 64, [0, 19], make_video(np, rng, 64, [0, 19], bump_len=(6, 16)))
    add('video_test_short_flat', 64, 40, [13], make_flat_video(np, rng, 64))
    add('video_test_short_b', 64, 97, [1], make_video(np, rng, 64, [1], weak=[6, 8], bump_len=(5, 12)))
    add('video_test_ties', 48, 48, [9, 4], make_tie_video(np, 48))

    captured = {'combined': [], 'score': []}
    orig_isf = O.misc.instance_selection_function

    def recording_isf(*a):
        r = orig_isf(*a)
        captured['combined'].append(r.detach().clone())
        return r

    def recording_softmax(x, dim=None, **k):
        r = torch.nn.functional.softmax(x, dim=dim, **k)
        captured['score'].append(r.detach().clone())
        return r

    class StandInNet:
        """Returns the stored tensors of the video whose index the input holds."""
        def eval(self):
            return self

        def __call__(self, data):
            v = videos[int(data[0, 0, 0])]
            cas = torch.from_numpy(v[4])[None]
            flow = torch.from_numpy(v[5])[None, None]
            rgb = torch.from_numpy(v[6])[None, None]
            dummy = torch.zeros(1)
            return (cas, flow, rgb) + (dummy,) * 7

    results, accuracies = {}, {}
    act_thresh = None
    orig_eval, orig_F = O.infer.evaluate, O.infer.F
    O.misc.instance_selection_function = recording_isf
    O.infer.F = types.SimpleNamespace(softmax=recording_softmax)
    O.infer.evaluate = lambda *a, **k: (0.0, None)
    try:
        for T in sorted({v[1] for v in videos}, reverse=True):
            idx = [i for i, v in enumerate(videos) if v[1] == T]
            tmp = tempfile.mkdtemp(prefix='aicl_post_golden_')
            config = ao.make_config(O, data_path=tmp, num_segments=T, output_dir=tmp)
            if act_thresh is None:
                act_thresh = [float(x) for x in config.act_thresh]
            loader = [(torch.full((1, T, 1), float(i)), torch.from_numpy(videos[i][3])[None], None,
                       [videos[i][0]], torch.tensor([videos[i][2]])) for i in idx]
            start = len(captured['combined'])
            _, acc = O.infer.inference(StandInNet(), config, loader, model_file=None)
            accuracies[T] = (float(acc), len(idx))
            with open(os.path.join(config.model_path, 'temp_result.json')) as f:
                res = json.load(f)
            for k, i in enumerate(idx):
                results[i] = (res['results'].get(videos[i][0]), captured['combined'][start + k],
                              captured['score'][start + k])
        if time_n:
            import time
            long_idx = [i for i, v in enumerate(videos) if v[1] == 750]
            tmp = tempfile.mkdtemp(prefix='aicl_post_time_')
            config = ao.make_config(O, data_path=tmp, num_segments=750, output_dir=tmp)
            loader = [(torch.full((1, 750, 1), float(i)), torch.from_numpy(videos[i][3])[None], None,
                       ['%s_%d' % (videos[i][0], k)], torch.tensor([videos[i][2]]))
                      for k, i in enumerate(long_idx[k % len(long_idx)] for k in range(time_n))]
            t0 = time.time()
            O.infer.inference(StandInNet(), config, loader, model_file=None)
            print('official inference() post-processing: %d videos (T=750) in %.2f s' % (time_n, time.time() - t0))
    finally:
        O.misc.instance_selection_function = orig_isf
        O.infer.F = orig_F
        O.infer.evaluate = orig_eval

    names = [O.cfg.class_dict[c] for c in range(C)]
    blob = bytearray()
    vids = []
    for i, v in enumerate(videos):
        dets, combined, score = results[i]
        combined = combined[0].numpy().astype('<f4')
        score = score[0].numpy().astype('<f4')
        assert combined.shape == (v[1], C)
        entry = {'name': v[0], 'T': v[1], 'v_len': v[2], 'labels': [int(x) for x in v[3]],
                 'combined_offset': len(blob) // 4}
        blob += combined.tobytes()
        entry['score_offset'] = len(blob) // 4
        blob += score.tobytes()
        entry['detections'] = [[names.index(d['label']), d['score300'], d['segment'][0], d['segment'][1]]
                               for d in dets]
        vids.append(entry)

    total_correct = sum(a * n for a, n in accuracies.values())
    golden = {
        'generator': 'tools/make_post_golden.py (official inference_thumos.inference, GPU semantics)',
        'official_code': os.environ.get('OFFICIAL_AICL', ''),
        'num_classes': C, 'class_names': names, 'act_thresh': act_thresh,
        'cls_acc': total_correct / len(videos),
        'videos': vids,
        'argsort': argsort_cases(np, rng),
        'means': mean_cases(np),
        'nms': nms_cases(O, np, rng),
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'inputs.f32.tmp'), 'wb') as f:
        f.write(bytes(blob))
    os.replace(os.path.join(out_dir, 'inputs.f32.tmp'), os.path.join(out_dir, 'inputs.f32'))
    with open(os.path.join(out_dir, 'golden.json.tmp'), 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
    os.replace(os.path.join(out_dir, 'golden.json.tmp'), os.path.join(out_dir, 'golden.json'))
    for v in vids:
        print('%-22s T=%-4d v_len=%-5d detections=%d classes=%s' % (
            v['name'], v['T'], v['v_len'], len(v['detections']),
            sorted({d[0] for d in v['detections']})))
    print('cls_acc', golden['cls_acc'], 'bytes', len(blob))


if __name__ == '__main__':
    main()
