"""LlamaGen stage 1: the VQ tokenizer (lg_vq.py) on Fashion-MNIST at 32x32, an 8x8 grid of codes.

  nice -n 19 /usr/bin/python3 train_lgvq.py --minutes 20 --threads 1      # resumes from work/lgvq.pt

Losses: MSE + L1 on pixels plus the codebook and commitment losses of the release (beta 0.25) on l2-normalised
codes. The codebook starts on encoder features; entries unused for 25 steps are moved to current features during
the first 80% of training (a training-time remedy; it changes no parameter name or shape).
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

import common
import data
from lg_vq import VQModel

CFG = dict(codebook_size=256, codebook_embed_dim=8, ch=32, ch_mult=(1, 1, 2), num_res_blocks=1, z_channels=32,
           beta=0.25)


def psnr(model, x, bs=250):
    model.eval()
    tot = 0.0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            xb = x[i:i + bs]
            rec = model.decode_code(model.encode_idx(xb), 32 // model.f)
            tot += ((rec - xb) / 2).pow(2).mean(dim=(1, 2, 3)).clamp_min(1e-10).log10().mul(-10).sum().item()
    model.train()
    return tot / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=100000)
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--bs', type=int, default=16)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt-every', type=float, default=180)
    args = ap.parse_args()
    common.setup(args.threads)
    torch.manual_seed(args.seed)
    x, _ = data.load('train')
    xt, _ = data.load('test')
    model = VQModel(**CFG)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.0)
    g = torch.Generator().manual_seed(args.seed)
    step, spent = 0, 0.0
    st = common.load_ckpt('lgvq.pt')
    if st:
        model.load_state_dict(st['model']); opt.load_state_dict(st['opt']); g.set_state(st['rng'])
        torch.set_rng_state(st['torch_rng'])
        step, spent = st['step'], st['spent']
        print('resumed at step', step, flush=True)
    log = common.Log('lgvq.log.jsonl')
    V, d = CFG['codebook_size'], CFG['codebook_embed_dim']
    hits = torch.zeros(V)
    t0, last = time.time(), time.time()

    def progress():
        p = step / args.steps
        if args.minutes > 0:
            p = max(p, (spent + time.time() - t0) / (60 * args.minutes))
        return min(p, 1.0)

    def save():
        common.save_ckpt('lgvq.pt', dict(model=model.state_dict(), opt=opt.state_dict(), rng=g.get_state(),
                                         torch_rng=torch.get_rng_state(), step=step, spent=spent + time.time() - t0,
                                         cfg=CFG, args=vars(args)))

    if step == 0:
        with torch.no_grad():   # the codebook starts on (normalised) encoder features
            f = F.normalize(model.pre_quant(x[:256]).permute(0, 2, 3, 1).reshape(-1, d), dim=-1)
            model.quantize.embedding.weight.copy_(f[torch.randperm(len(f), generator=g)[:V]])
    while progress() < 1.0:
        xb = x[torch.randint(len(x), (args.bs,), generator=g)]
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.5 * (1 + math.cos(math.pi * progress())) * 0.9 + 0.1)
        for pg in opt.param_groups:
            pg['lr'] = lr
        rec, ql, idx = model(xb)
        rl = F.mse_loss(rec, xb) + F.l1_loss(rec, xb)
        loss = rl + ql
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hits += torch.bincount(idx.flatten(), minlength=V).float()
        step += 1
        if step % 25 == 0:
            dead = (hits == 0).nonzero().flatten()
            reset = 0
            if len(dead) and progress() < 0.8:
                with torch.no_grad():
                    f = model.pre_quant(xb).permute(0, 2, 3, 1).reshape(-1, d)
                    pick = torch.randint(len(f), (len(dead),), generator=g)
                    model.quantize.embedding.weight[dead] = F.normalize(
                        f[pick] + 0.01 * torch.randn(len(dead), d, generator=g), dim=-1)
                reset = len(dead)
            log(step=step, loss=round(loss.item(), 5), rec=round(rl.item(), 5), vq=round(ql.item(), 5), lr=lr,
                used=int((hits > 0).sum()), dead_reset=reset, elapsed=round(spent + time.time() - t0, 1))
            print(step, round(loss.item(), 4), round(rl.item(), 4), round(ql.item(), 4), 'used', int((hits > 0).sum()), flush=True)
            hits.zero_()
        if time.time() - last > args.ckpt_every:
            save(); last = time.time()
    save()
    p = psnr(model, xt)
    log(step=step, test_psnr=round(p, 3), elapsed=round(spent + time.time() - t0, 1))
    print('test PSNR', p, flush=True)
    st = common.load_ckpt('lgvq.pt'); st['test_psnr'] = p; common.save_ckpt('lgvq.pt', st)


if __name__ == '__main__':
    main()
