"""FlowAR stage 2a: fixes the KL autoencoder's latent scale, then encodes the training set once.

  nice -n 19 /usr/bin/python3 mar_latents.py --limit 20000 --threads 1

MAR and FlowAR feed their models latent * 0.2325 (and Tessera divides by 0.2325 before decoding). So that this
recipe's latents have the same unit spread after that factor, the posterior mean is multiplied by
a = 1 / (0.2325 * std(mean)) inside the network: quant_conv's mean rows (weights and bias) times a, the
log-variance bias plus 2 ln a, post_quant_conv's weights divided by a. The autoencoder's function is unchanged
(decode(a z) on the new weights = decode(z) on the old); the std is measured on the first 2,000 images. Writes work/marvae-scaled.pt (the state_dict the bundle
exports) and work/marlatents.pt: the scaled posterior mean and standard deviation of the first --limit training images (fp16),
from which train_flowar.py draws posterior samples as the release's training does.
"""
import argparse
import math

import torch

import common
import data
from mar_vae import AutoencoderKL

SCALE = 0.2325


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--bs', type=int, default=500)
    ap.add_argument('--limit', type=int, default=60000, help='encode the first N training images')
    args = ap.parse_args()
    common.setup(args.threads)
    st = common.load_ckpt('marvae.pt')
    model = AutoencoderKL(**st['cfg'])
    model.load_state_dict(st['model'])
    model.eval()
    x, labels = data.load('train')
    x, labels = x[:args.limit], labels[:args.limit]
    D = model.embed_dim
    with torch.no_grad():
        mean, _ = model.encode_moments(x[:2000])
        s = mean.std().item()
        a = 1.0 / (SCALE * s)
        ref = model.decode(mean[:8])
        qw, qb = model.quant_conv.weight, model.quant_conv.bias
        qw[:D] *= a
        qb[:D] *= a
        qb[D:] += 2 * math.log(a)
        model.post_quant_conv.weight /= a
        after = model.decode(model.encode_moments(x[:8])[0])
        print('latent std %.4f, factor %.4f, decode change %.2e' % (s, a, (after - ref).abs().max().item()), flush=True)
        common.save_ckpt('marvae-scaled.pt', dict(model=model.state_dict(), cfg=st['cfg'], factor=a, std_before=s,
                                                  step=st['step'], spent=st['spent'], test_psnr=st.get('test_psnr'),
                                                  args=st['args']))
        means, stds = [], []
        for i in range(0, len(x), args.bs):
            m, lv = model.encode_moments(x[i:i + args.bs])
            means.append((m * SCALE).half())
            stds.append((torch.exp(0.5 * lv) * SCALE).half())
            if i % 5000 == 0:
                print(i, flush=True)
    means, stds = torch.cat(means), torch.cat(stds)
    print('scaled latent std %.4f, mean posterior std %.4f' % (means.float().std().item(), stds.float().mean().item()))
    common.save_ckpt('marlatents.pt', dict(mean=means, std=stds, labels=labels))


if __name__ == '__main__':
    main()
