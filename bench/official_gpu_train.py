#!/usr/bin/env python3
"""Runs ../shared/oracle/official_train.py on a GPU: the oracle neutralises .cuda() for its CPU runs; this keeps
it, so the official code runs as its authors ran it. TF32 is off (FP32 matmuls and convolutions, as our default)
unless --tf32 is given (torch's defaults, to compare with our TF32 option).

  official_gpu_train.py --oracle DIR [--tf32] OFFICIAL_TRAIN_ARGS...   (OFFICIAL_AICL = the official repo)

Written without a GPU at hand (2026-11-24): not run yet.
"""
import argparse
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--oracle', required=True, help='the oracle directory (official_train.py, aicl_official.py)')
    p.add_argument('--tf32', action='store_true', help="torch's default TF32 settings instead of FP32")
    a, rest = p.parse_known_args()
    sys.path.insert(0, a.oracle)
    sys.dont_write_bytecode = True
    import torch
    if not torch.cuda.is_available():
        sys.exit('official_gpu_train.py: no CUDA device visible to torch')
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    import aicl_official as ao

    def keep_cuda(torch_module, gpu_semantics):  # replaces the oracle's CPU shim: .cuda() really moves to the GPU
        pass
    ao._patch_torch = keep_cuda
    import official_train
    sys.argv = [sys.argv[0]] + rest
    print('torch %s on %s, TF32 %s' % (torch.__version__, torch.cuda.get_device_name(0), 'on' if a.tf32 else 'off'),
          flush=True)
    official_train.main()


if __name__ == '__main__':
    main()
