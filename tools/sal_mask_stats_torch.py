# Diagnostic (docs/sal-training.md): the same statistics for torch's nn.Dropout(0.5) masks (200 draws of [2, 512, 128], seed 3).
import numpy as np, torch
torch.manual_seed(3); torch.set_num_threads(1)
B, D, T = 2, 512, 128
drop = torch.nn.Dropout(0.5); drop.train()
x = torch.ones(B, D, T)
ms = [(drop(x) > 0).permute(0, 2, 1).numpy().astype(np.float64) for _ in range(200)]  # 40 steps x 5 sites
allm = np.stack(ms); n = B * T * D
def corr(a, b): a = a - a.mean(); b = b - b.mean(); return (a * b).mean() / np.sqrt((a * a).mean() * (b * b).mean())
print(torch.__version__, torch.backends.mkl.is_available())
print('keep rate', allm.mean(), 'std per-mask rate', allm.reshape(200, -1).mean(1).std(), 'expected', 0.5 / np.sqrt(n))
print('consecutive draws', np.mean([abs(corr(ms[i], ms[i + 1])) for i in range(199)]), 'draws 5 apart', np.mean([abs(corr(ms[i], ms[i + 5])) for i in range(195)]))
x = allm
print('d vs d+1', corr(x[..., :-1], x[..., 1:]), 't vs t+1', corr(x[:, :, :-1], x[:, :, 1:]), 'b0 vs b1', corr(x[:, 0], x[:, 1]))
per_ch = x.mean(axis=(0, 1, 2)); print('per-channel std %.5f expected %.5f' % (per_ch.std(), 0.5 / np.sqrt(200 * B * T)))
