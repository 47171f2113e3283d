"""MAR stage: a class-conditional MAR (mar_model.py) on the KL autoencoder's latents (8x8 x 16, patch size 1, 64
tokens), trained as the release's main_mar.py does: masked autoregression with the diffusion loss (masking ratio
from the truncated normal, label drop 0.1 to fake_latent for CFG, diffusion_batch_mul repeats), AdamW (0.9, 0.95),
weight decay 0.02, grad clip 3, an EMA of the weights (the export uses it). Differences, for a CPU budget: a larger
learning rate with a short warm-up and a cosine schedule over the wall-clock budget, EMA 0.998 (the release: 0.9999
over 400 epochs), no dropout, a 16-slot class buffer (the release: 64), and the posterior means as training
latents (as train_flowar.py --latents mean: 11 of this autoencoder's 16 channels sit at the prior).

  nice -n 19 /usr/bin/python3 train_mar.py --name mar-target --width 128 --depth 2 --mlp-width 128 --mlp-depth 3 \
      --minutes 40 --threads 1
  nice -n 19 /usr/bin/python3 train_mar.py --name mar-draft --width 64 --depth 1 --mlp-width 64 --mlp-depth 2 \
      --minutes 18 --lr 2e-3 --threads 1

Reads work/marlatents.pt (mar_latents.py); resumes from work/<name>.pt; heads = width / 64 (at least 1).
"""
import argparse
import copy
import math
import time

import torch

import common
from mar_model import MAR, linear_macs, patchify


def build(a):
    h = max(1, a['width'] // 64)
    return MAR(seq_side=8, token_dim=16, enc_width=a['width'], enc_depth=a['depth'], enc_heads=h,
               dec_width=a['width'], dec_depth=a['depth'], dec_heads=h, buffer_size=a['buffer'], class_num=10,
               diffloss_w=a['mlp_width'], diffloss_d=a['mlp_depth'], diffusion_batch_mul=a['batch_mul'])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--name', required=True)
    ap.add_argument('--width', type=int, required=True)
    ap.add_argument('--depth', type=int, required=True, help='encoder blocks = decoder blocks')
    ap.add_argument('--mlp-width', type=int, required=True)
    ap.add_argument('--mlp-depth', type=int, required=True)
    ap.add_argument('--buffer', type=int, default=16)
    ap.add_argument('--batch-mul', type=int, default=4)
    ap.add_argument('--steps', type=int, default=1000000)
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--wd', type=float, default=0.02)
    ap.add_argument('--ema', type=float, default=0.998)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--top-share', type=float, default=0.0,
                    help='share of diffusion rows trained at the last timestep (999) instead of a uniform one')
    ap.add_argument('--ckpt-every', type=float, default=180)
    args = ap.parse_args()
    common.setup(args.threads)
    torch.manual_seed(args.seed)
    lat = common.load_ckpt('marlatents.pt')
    means, labels = lat['mean'], lat['labels']
    model = build(vars(args))
    ema_model = copy.deepcopy(model)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=args.wd)
    g = torch.Generator().manual_seed(args.seed)
    step, spent = 0, 0.0
    st = common.load_ckpt(args.name + '.pt')
    if st:
        model.load_state_dict(st['model']); ema_model.load_state_dict(st['ema']); opt.load_state_dict(st['opt'])
        g.set_state(st['rng']); torch.set_rng_state(st['torch_rng'])
        step, spent = st['step'], st['spent']
        print('resumed at step', step, flush=True)
    log = common.Log(args.name + '.log.jsonl')
    t0, last = time.time(), time.time()

    def progress():
        p = step / args.steps
        if args.minutes > 0:
            p = max(p, (spent + time.time() - t0) / (60 * args.minutes))
        return min(p, 1.0)

    def save():
        common.save_ckpt(args.name + '.pt', dict(model=model.state_dict(), ema=ema_model.state_dict(),
                                                 opt=opt.state_dict(), rng=g.get_state(),
                                                 torch_rng=torch.get_rng_state(), step=step,
                                                 spent=spent + time.time() - t0, args=vars(args),
                                                 linear_macs=linear_macs(model), ema_loss=ema))

    model.train()
    ema = None
    while progress() < 1.0:
        i = torch.randint(len(means), (args.bs,), generator=g)
        z, lb = patchify(means[i].float()), labels[i]
        lr = args.lr * min(1.0, (step + 1) / 200) * (0.5 * (1 + math.cos(math.pi * progress())) * 0.95 + 0.05)
        for pg in opt.param_groups:
            pg['lr'] = lr
        loss, mse = model.loss(z, lb, generator=g, top_share=args.top_share)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 3.0)
        opt.step()
        step += 1
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema_model.parameters(), model.parameters()):
                pe.mul_(decay).add_(p, alpha=1 - decay)
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0:
            log(step=step, loss=round(loss.item(), 4), mse=round(mse.item(), 4), ema_loss=round(ema, 4), lr=lr,
                elapsed=round(spent + time.time() - t0, 1))
            print(step, round(ema, 4), round(mse.item(), 4), round(spent + time.time() - t0), flush=True)
        if time.time() - last > args.ckpt_every:
            save(); last = time.time()
    save()
    print('done', step, ema, flush=True)


if __name__ == '__main__':
    main()
