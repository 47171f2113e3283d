"""Stage 1: VAR's multi-scale VQ-VAE on Fashion-MNIST at 32x32.

  nice -n 19 /usr/bin/python3 train_vae.py --steps 3000          # resumes from work/vae.pt when it exists

Losses: MSE + L1 on pixels plus the quantiser's loss (beta 0.25). Codebook entries unused for a while are moved to
encoder features of the current batch (a training-time remedy; it changes no parameter name or shape).
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

import common
import data
from vqvae import VQVAE

CFG = dict(vocab_size=256, z_channels=16, ch=32, ch_mult=(1, 1, 1, 2), num_res_blocks=1,
           v_patch_nums=(1, 2, 3, 4), beta=0.25, quant_resi=0.5, share_quant_resi=4)


def psnr(model, x, bs=250):
    model.eval()
    mse = 0.0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            xb = x[i:i + bs]
            rec = model.idx_to_img(model.img_to_idx(xb))
            mse += ((rec - xb) / 2).pow(2).mean(dim=(1, 2, 3)).clamp_min(1e-10).log10().mul(-10).sum().item()
    model.train()
    return mse / len(x)   # mean per-image PSNR on [0, 1] pixels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--minutes', type=float, default=0, help='wall budget; the schedule follows whichever of steps/time runs out first')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt-every', type=float, default=180, help='seconds')
    args = ap.parse_args()
    common.setup(args.threads)
    torch.manual_seed(args.seed)
    x, _ = data.load('train')
    xt, _ = data.load('test')
    model = VQVAE(**CFG)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.0)
    g = torch.Generator().manual_seed(args.seed)
    step, spent = 0, 0.0
    st = common.load_ckpt('vae.pt')
    if st:
        model.load_state_dict(st['model']); opt.load_state_dict(st['opt']); g.set_state(st['rng'])
        step, spent = st['step'], st['spent']
        print('resumed at step', step)
    log = common.Log('vae.log.jsonl')
    perm = torch.randperm(len(x), generator=g)
    hits_window = torch.zeros(CFG['vocab_size'])
    t0, last = time.time(), time.time()

    def save():
        common.save_ckpt('vae.pt', dict(model=model.state_dict(), opt=opt.state_dict(), rng=g.get_state(),
                                        step=step, spent=spent + time.time() - t0, cfg=CFG, args=vars(args)))

    def progress():
        p = step / args.steps
        if args.minutes > 0:
            p = max(p, (spent + time.time() - t0) / (60 * args.minutes))
        return min(p, 1.0)

    while progress() < 1.0:
        i = (step * args.bs) % len(x)
        if i + args.bs > len(x):
            perm = torch.randperm(len(x), generator=g)
        idx = perm[i:i + args.bs] if i + args.bs <= len(x) else perm[:args.bs]
        xb = x[idx]
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.5 * (1 + math.cos(math.pi * progress())) * 0.9 + 0.1)
        for pg in opt.param_groups:
            pg['lr'] = lr
        if step == 0 and not st:
            with torch.no_grad():   # codebook starts on encoder features
                f = model.quant_conv(model.encoder(x[:512])).permute(0, 2, 3, 1).reshape(-1, CFG['z_channels'])
                model.quantize.embedding.weight.copy_(f[torch.randperm(len(f), generator=g)[:CFG['vocab_size']]])
        rec, vq, hits = model(xb)
        rl = F.mse_loss(rec, xb) + F.l1_loss(rec, xb)
        loss = rl + vq
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hits_window += hits.sum(0)
        step += 1
        if step % 25 == 0:
            dead = (hits_window == 0).nonzero().flatten()
            if len(dead) and progress() < 0.8:
                with torch.no_grad():
                    f = model.quant_conv(model.encoder(xb)).permute(0, 2, 3, 1).reshape(-1, CFG['z_channels'])
                    pick = torch.randint(len(f), (len(dead),), generator=g)
                    model.quantize.embedding.weight[dead] = f[pick] + 0.01 * torch.randn(len(dead), f.shape[1], generator=g)
            log(step=step, loss=round(loss.item(), 5), rec=round(rl.item(), 5), vq=round(vq.item(), 5), lr=lr,
                used=int((hits_window > 0).sum()), dead_reset=len(dead), elapsed=round(spent + time.time() - t0, 1))
            print(step, round(loss.item(), 4), round(rl.item(), 4), round(vq.item(), 4), 'used', int((hits_window > 0).sum()), flush=True)
            hits_window.zero_()
        if time.time() - last > args.ckpt_every:
            save(); last = time.time()
    save()
    p = psnr(model, xt)
    log(step=step, test_psnr=round(p, 3), elapsed=round(spent + time.time() - t0, 1))
    print('test PSNR', p)
    st = common.load_ckpt('vae.pt'); st['test_psnr'] = p; common.save_ckpt('vae.pt', st)


if __name__ == '__main__':
    main()
