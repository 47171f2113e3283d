"""FlowAR stage 1: MAR's KL autoencoder (mar_vae.py) on Fashion-MNIST at 32x32, an 8x8 grid of 16-channel latents.

  nice -n 19 /usr/bin/python3 train_marvae.py --minutes 16 --threads 1      # resumes from work/marvae.pt

Loss: MSE + L1 on pixels of the decoded posterior sample plus kl_weight * KL(posterior || N(0, I)) (summed over
the latent, averaged over the batch). MAR's release also trains with a perceptual and a GAN loss; at 32 px on
grey clothes the pixel losses suffice. Latent scale: MAR's models see latent * 0.2325; mar_latents.py rescales
quant_conv / post_quant_conv exactly so that this recipe's latents times 0.2325 have unit standard deviation.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

import common
import data
from mar_vae import AutoencoderKL

CFG = dict(embed_dim=16, ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, resolution=32, attn_resolutions=(8,))


def psnr(model, x, bs=250):
    model.eval()
    tot = 0.0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            xb = x[i:i + bs]
            rec = model.decode(model.encode_moments(xb)[0])
            tot += ((rec - xb) / 2).pow(2).mean(dim=(1, 2, 3)).clamp_min(1e-10).log10().mul(-10).sum().item()
    model.train()
    return tot / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=100000)
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--bs', type=int, default=16)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--kl-weight', type=float, default=2e-5)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt-every', type=float, default=180)
    args = ap.parse_args()
    common.setup(args.threads)
    torch.manual_seed(args.seed)
    x, _ = data.load('train')
    xt, _ = data.load('test')
    model = AutoencoderKL(**CFG)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.0)
    g = torch.Generator().manual_seed(args.seed)
    step, spent = 0, 0.0
    st = common.load_ckpt('marvae.pt')
    if st:
        model.load_state_dict(st['model']); opt.load_state_dict(st['opt']); g.set_state(st['rng'])
        torch.set_rng_state(st['torch_rng'])
        step, spent = st['step'], st['spent']
        print('resumed at step', step, flush=True)
    log = common.Log('marvae.log.jsonl')
    t0, last = time.time(), time.time()

    def progress():
        p = step / args.steps
        if args.minutes > 0:
            p = max(p, (spent + time.time() - t0) / (60 * args.minutes))
        return min(p, 1.0)

    def save():
        common.save_ckpt('marvae.pt', dict(model=model.state_dict(), opt=opt.state_dict(), rng=g.get_state(),
                                           torch_rng=torch.get_rng_state(), step=step,
                                           spent=spent + time.time() - t0, cfg=CFG, args=vars(args)))

    while progress() < 1.0:
        xb = x[torch.randint(len(x), (args.bs,), generator=g)]
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.5 * (1 + math.cos(math.pi * progress())) * 0.9 + 0.1)
        for pg in opt.param_groups:
            pg['lr'] = lr
        rec, kl = model(xb, generator=g)
        rl = F.mse_loss(rec, xb) + F.l1_loss(rec, xb)
        loss = rl + args.kl_weight * kl.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 25 == 0:
            log(step=step, loss=round(loss.item(), 5), rec=round(rl.item(), 5), kl=round(kl.mean().item(), 2),
                lr=lr, elapsed=round(spent + time.time() - t0, 1))
            print(step, round(loss.item(), 4), round(rl.item(), 4), 'kl', round(kl.mean().item(), 1), flush=True)
        if time.time() - last > args.ckpt_every:
            save(); last = time.time()
    save()
    p = psnr(model, xt)
    log(step=step, test_psnr=round(p, 3), elapsed=round(spent + time.time() - t0, 1))
    print('test PSNR', p, flush=True)
    st = common.load_ckpt('marvae.pt'); st['test_psnr'] = p; common.save_ckpt('marvae.pt', st)


if __name__ == '__main__':
    main()
