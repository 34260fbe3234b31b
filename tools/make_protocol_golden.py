#!/usr/bin/env python3
"""Golden numbers for aicl_eval --protocol th14 and --protocol wtalc, from the reference code itself.

  /usr/bin/python3 tools/make_protocol_golden.py --gt ../shared/data/thumos14/gt.json \
      --ambiguous ../shared/data/thumos14/Ambiguous_test.txt --out-dir /tmp/protocol_golden \
      [--extra DETS.json ...] [--no-generated] [--kit DIR] [--wtalc FILE] [--skip-kit] [--skip-wtalc]

For each detection file (the two generated cases of tools/make_eval_golden.py, random20k and jitter_ties,
plus every --extra file, e.g. a trained model's detections.json):

th14   writes the THUMOS14 kit's input files (OUT/<case>/groundtruth/<Class>_test.txt from the test subset of
       gt.json in database order, Ambiguous_test.txt as given, detclasslist.txt with the official THUMOS14 class
       ids, and <case>.txt "video start end classid score" in the detections' reading order), then runs the
       ORIGINAL kit (TH14evaldet.m, TH14eventdetpr.m, intervaloverlapvalseconds.m, unmodified) under GNU
       Octave and prints its map and ap_all.
wtalc  loads W-TALC's detectionMAP.py at run time and runs its own statements: the annotation filtering and
       Ambiguous list reading of getLocMAP, then, for each class, the scoring part of its class loop (from
       `segment_predict = np.array(segment_predict)` to `ap.append(prc)`) and its `return 100*np.mean(ap)`.
       Only the CAS-to-segment step before that (which needs score arrays) is replaced: the class's detections,
       in reading order, become rows [video index, round(start*25/16), round(end*25/16), score] with Python's
       round, the conversion W-TALC applies to ground-truth seconds. Detections of videos that getLocMAP does
       not keep (outside the subset, or without annotations) are not scored, as in W-TALC.

The kit and detectionMAP.py default to the fetched mirrors (git archive of demianzhang/weakly-action-localization
and sujoyp/wtalc-pytorch under /work/.mirror). Output: the expected numbers, repr, in the form the C++ tests use.
"""
import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_eval_golden  # noqa: E402  (the shared splitmix64 detection generator)

# The official THUMOS14 detection class ids (THUMOS14 annotation README / the kit's original detclasslist.txt).
TH14_CLASS_IDS = {
    'BaseballPitch': 7, 'BasketballDunk': 9, 'Billiards': 12, 'CleanAndJerk': 21, 'CliffDiving': 22,
    'CricketBowling': 23, 'CricketShot': 24, 'Diving': 26, 'FrisbeeCatch': 31, 'GolfSwing': 33,
    'HammerThrow': 36, 'HighJump': 40, 'JavelinThrow': 45, 'LongJump': 51, 'PoleVault': 68, 'Shotput': 79,
    'SoccerPenalty': 85, 'TennisSwing': 92, 'ThrowDiscus': 93, 'VolleyballSpiking': 97,
}
MIRRORS = '/work/.mirror'


def extract_mirror(repo, path, dest):
    """git archive of one path of a fetched mirror into dest; returns dest/path."""
    git_dir = os.path.join(MIRRORS, repo, 'repo', '.git')
    tar = subprocess.run(['git', '--git-dir', git_dir, 'archive', 'HEAD', path], check=True,
                         capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', dest], input=tar, check=True)
    return os.path.join(dest, path)


def without_empty_snippet_sets(dets):
    """The detections whose snippet range [round(s*25/16), round(e*25/16)) is not empty. W-TALC divides by zero
    when such a detection meets a ground-truth instance with an empty range (17 in THUMOS14 test), so the
    generated cases leave them out for every protocol."""
    f = 25.0 / 16.0
    res = {}
    for v, lst in dets['results'].items():
        kept = [d for d in lst if round(d['segment'][0] * f) < round(d['segment'][1] * f)]
        if kept:
            res[v] = kept
    return dict(dets, results=res)


def reading_order(dets):
    """(video, label, start, end, score) in the evaluator's reading order: results order, then list order."""
    out = []
    for v, lst in dets['results'].items():
        for d in lst:
            score = d['score300'] if 'score300' in d else d['score']
            out.append((v, d['label'], float(d['segment'][0]), float(d['segment'][1]), float(score)))
    return out


# ---------------------------------------------------------------------------------------------------------
# THUMOS14 kit under Octave
# ---------------------------------------------------------------------------------------------------------

def write_kit_inputs(db, ambiguous, dets, workdir, subset='test'):
    gtdir = os.path.join(workdir, 'groundtruth')
    os.makedirs(gtdir, exist_ok=True)
    per_class = {c: [] for c in TH14_CLASS_IDS}
    for v, e in db.items():
        if e['subset'] != subset:
            continue
        for a in e['annotations']:
            per_class[a['label']].append('%s  %r %r\n' % (v, float(a['segment'][0]), float(a['segment'][1])))
    for c, lines in per_class.items():
        with open(os.path.join(gtdir, c + '_test.txt'), 'w') as f:
            f.writelines(lines)
    shutil.copyfile(ambiguous, os.path.join(gtdir, 'Ambiguous_test.txt'))
    with open(os.path.join(gtdir, 'detclasslist.txt'), 'w') as f:
        for c, i in sorted(TH14_CLASS_IDS.items(), key=lambda kv: kv[1]):
            f.write('%d %s\n' % (i, c))
    det_txt = os.path.join(workdir, 'detections.txt')
    with open(det_txt, 'w') as f:
        for v, label, s, e, score in reading_order(dets):
            f.write('%s\t%r\t%r\t%d\t%r\n' % (v, s, e, TH14_CLASS_IDS[label], score))
    return gtdir, det_txt


def run_kit(kit_dir, gtdir, det_txt):
    script = ("addpath('%s'); [pr_all, ap_all, map] = TH14evaldet('%s', '%s', 'test');"
              "printf('MAP'); printf(' %%.17g', map); printf('\\n');"
              "for i = 1:size(ap_all, 1) printf('AP'); printf(' %%.17g', ap_all(i, :)); printf('\\n'); end")
    out = subprocess.run(['octave-cli', '--no-gui', '-q', '--no-init-file', '--eval',
                          script % (kit_dir, det_txt, gtdir)], check=True, capture_output=True, text=True).stdout
    maps = [float(x) for line in out.splitlines() if line.startswith('MAP') for x in line.split()[1:]]
    aps = [[float(x) for x in line.split()[1:]] for line in out.splitlines() if line.startswith('AP ')]
    return maps, aps


# ---------------------------------------------------------------------------------------------------------
# W-TALC's scoring, its own statements loaded at run time
# ---------------------------------------------------------------------------------------------------------

def load_wtalc_scoring(path):
    """Two functions built from getLocMAP's own statements (see the module docstring)."""
    src = open(path).read()
    tree = ast.parse(src)
    module = types.ModuleType('wtalc_detectionMAP')
    module.__file__ = path
    exec(compile(tree, path, 'exec'), module.__dict__)  # defines filter_segments, str2ind, np
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == 'getLocMAP')
    text = [ast.unparse(s) for s in fn.body]
    first = next(i for i, t in enumerate(text) if t.startswith('ambilist = '))
    last = next(i for i, t in enumerate(text) if t.startswith('templabelidx = []')) + 1  # its for-loop too
    prefix = fn.body[first:last + 1]
    ap_init = fn.body[next(i for i, t in enumerate(text) if t == 'ap = []')]
    class_loop = next(s for s in fn.body if isinstance(s, ast.For) and ast.unparse(s.iter) == 'templabelidx')
    start = next(i for i, s in enumerate(class_loop.body)
                 if ast.unparse(s).startswith('segment_predict = np.array(segment_predict)'))
    given = ast.parse('segment_predict = class_predictions[c]').body[0]
    loop = ast.For(target=class_loop.target, iter=class_loop.iter, body=[given] + class_loop.body[start:],
                   orelse=[])
    ret = fn.body[-1]
    assert ast.unparse(ret) == 'return 100 * np.mean(ap)'

    def make(name, args, body):
        f = ast.FunctionDef(name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in args],
                                                          kwonlyargs=[], kw_defaults=[], defaults=[]),
                            body=body, decorator_list=[], returns=None)
        m = ast.Module(body=[f], type_ignores=[])
        ast.fix_missing_locations(m)
        exec(compile(m, path, 'exec'), module.__dict__)
        return module.__dict__[name]

    stage1_ret = ast.parse('return dict(videoname=videoname, gtsegments=gtsegments, gtlabels=gtlabels, '
                           'templabelidx=templabelidx, ambilist=ambilist, factor=factor)').body[0]
    stage1 = make('aicl_stage1', ['annotation_path', 'args', 'subset', 'gtsegments', 'gtlabels', 'videoname',
                                  'duration', 'classlist', 'predictions'], prefix + [stage1_ret])
    stage2 = make('aicl_stage2', ['class_predictions', 'th', 'videoname', 'ambilist', 'factor', 'gtsegments',
                                  'gtlabels', 'classlist', 'templabelidx'], [ap_init, loop, ret])
    return stage1, stage2


def run_wtalc(stage1, stage2, db, ambiguous, dets, tious, workdir):
    """W-TALC's mAP (percent) per threshold on the detections."""
    annodir = os.path.join(workdir, 'wtalc_anno')
    os.makedirs(annodir, exist_ok=True)
    shutil.copyfile(ambiguous, os.path.join(annodir, 'Ambiguous_test.txt'))
    names = list(db)
    classlist = np.array(sorted({a['label'] for e in db.values() for a in e['annotations']}))
    st = stage1(annodir, types.SimpleNamespace(feature_type='I3D'),
                np.array([db[v]['subset'] for v in names]),
                [[[float(a['segment'][0]), float(a['segment'][1])] for a in db[v]['annotations']] for v in names],
                [[a['label'] for a in db[v]['annotations']] for v in names],
                np.array(names), np.array([[float(db[v].get('duration', 0))] for v in names]), classlist,
                list(range(len(names))))
    index = {v: i for i, v in enumerate(st['videoname'])}
    factor = st['factor']
    per_class = {int(c): [] for c in st['templabelidx']}
    unscored = 0
    for v, label, s, e, score in reading_order(dets):
        c = int(np.where(classlist == label)[0][0]) if label in classlist else -1
        if v not in index or c not in per_class:
            unscored += 1
            continue
        per_class[c].append([index[v], round(s * factor), round(e * factor), score])
    maps = [stage2(per_class, th, st['videoname'], st['ambilist'], factor, st['gtsegments'], st['gtlabels'],
                   classlist, st['templabelidx']) for th in tious]
    return maps, unscored


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gt', required=True)
    p.add_argument('--ambiguous', required=True)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--extra', nargs='*', default=[])
    p.add_argument('--kit', help='TH14evalkit folder (default: from the demianzhang mirror)')
    p.add_argument('--wtalc', help="W-TALC's detectionMAP.py (default: from the sujoyp mirror)")
    p.add_argument('--skip-kit', action='store_true')
    p.add_argument('--skip-wtalc', action='store_true')
    p.add_argument('--no-generated', action='store_true', help='only the --extra files')
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='aicl_protocol_golden_')
    try:
        kit = a.kit or extract_mirror('demianzhang+weakly-action-localization', 'TH14evalkit', tmp)
        wtalc = a.wtalc or extract_mirror('sujoyp+wtalc-pytorch', 'detectionMAP.py', tmp)
        stage1, stage2 = load_wtalc_scoring(wtalc)
        db = json.load(open(a.gt))['database']
        cases = []
        for name, (seed, n, jit, levels) in ({} if a.no_generated else make_eval_golden.CASES).items():
            dets = without_empty_snippet_sets(make_eval_golden.generate(db, seed, n, jit, levels))
            cases.append((name + '_nz', dets))
        for path in a.extra:
            cases.append((os.path.basename(path), json.load(open(path))))
        for name, dets in cases:
            work = os.path.join(a.out_dir, name)
            os.makedirs(work, exist_ok=True)
            print('%s: %d detections' % (name, len(reading_order(dets))))
            if not a.skip_kit:
                gtdir, det_txt = write_kit_inputs(db, a.ambiguous, dets, work)
                maps, aps = run_kit(kit, gtdir, det_txt)
                print('  th14 kit map   {' + ', '.join(repr(m) for m in maps) + '}')
                print('  th14 kit ap[BaseballPitch] {' + ', '.join(repr(x) for x in aps[0]) + '}')
            if not a.skip_wtalc:
                maps, unscored = run_wtalc(stage1, stage2, db, a.ambiguous, dets, [0.1, 0.2, 0.3, 0.4, 0.5], work)
                print('  wtalc mAP (%)  {' + ', '.join(repr(m) for m in maps) + '}  (%d detections not scored)'
                      % unscored)
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
