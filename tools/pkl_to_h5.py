#!/usr/bin/env python3
"""Converts AICL weights between the official PyTorch checkpoint (.pkl state_dict) and aicl's weights .h5.

  /usr/bin/python3 tools/pkl_to_h5.py CAS_Only.pkl weights.h5      # official -> aicl (aicl_eval --weights)
  /usr/bin/python3 tools/pkl_to_h5.py --reverse weights.h5 out.pkl # aicl -> official (torch.load + load_state_dict)

Needs torch and h5py (Debian: python3-torch python3-h5py). One dataset per state_dict key, official shapes.
"""
import argparse
import os
import sys


def die(msg):
    print('error: ' + msg, file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('src')
    ap.add_argument('dst')
    ap.add_argument('--reverse', action='store_true', help='aicl .h5 -> official .pkl')
    a = ap.parse_args()
    import h5py
    import numpy as np
    import torch
    if not os.path.isfile(a.src):
        die('%s: no such file' % a.src)
    tmp = a.dst + '.tmp.%d' % os.getpid()
    try:
        if not a.reverse:
            try:
                sd = torch.load(a.src, map_location='cpu')
            except Exception as e:  # noqa: BLE001
                die('%s: not a torch checkpoint (%s)' % (a.src, e))
            if not isinstance(sd, dict):
                die('%s: expected a state_dict (dict of tensors), got %s' % (a.src, type(sd).__name__))
            with h5py.File(tmp, 'w') as f:
                for k, v in sd.items():
                    arr = v.detach().cpu().numpy().astype(np.float32)
                    if not np.isfinite(arr).all():
                        die('%s: %s holds NaN or Inf' % (a.src, k))
                    f.create_dataset(k, data=arr)
                f.attrs['format'] = 'aicl-weights-1'
        else:
            try:
                f = h5py.File(a.src, 'r')
            except Exception as e:  # noqa: BLE001
                die('%s: not an HDF5 file (%s)' % (a.src, e))
            with f:
                sd = {k: torch.from_numpy(f[k][()]) for k in f.keys() if isinstance(f[k], h5py.Dataset)}
            torch.save(sd, tmp)
        os.replace(tmp, a.dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print('wrote %s (%d tensors)' % (a.dst, len(sd)))


if __name__ == '__main__':
    main()
