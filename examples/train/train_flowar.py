"""FlowAR stage 2b: a class-conditional FlowAR (flowar_model.py) on the KL autoencoder's latents (8x8 x 16, scales
1, 2, 4, 8), label dropout 0.1 for classifier-free guidance, the release's loss (SILoss: linear path, velocity
target, one uniform t per image and scale, the scale's loss weighted by its share of the finest grid).

  nice -n 19 /usr/bin/python3 train_flowar.py --name flowar-target --width 128 --enc 1 --dec 1 --flow-width 128 \
      --flow-depth 2 --minutes 40 --threads 1
  nice -n 19 /usr/bin/python3 train_flowar.py --name flowar-draft --width 64 --enc 1 --dec 1 --flow-width 64 \
      --flow-depth 1 --minutes 25 --lr 2e-3 --threads 1

--latents sample draws posterior samples (mean + std * N(0, 1), times 0.2325) each step, as the release trains on
vae.encode(x).sample() * 0.2325; --latents mean (the default here) trains on the posterior means (times 0.2325):
this small autoencoder's posterior is wide (its KL term left many channels close to the prior, noise the decoder
ignores), and a short budget is better spent on the signal. Keeps an EMA of the weights (the export uses it).
Resumes from work/<name>.pt; AR heads = width / 64 (at least 1), the flow head's heads = flow width / 64.
"""
import argparse
import copy
import math
import time

import torch

import common
from flowar_model import FlowAR, linear_macs


def build(a):
    return FlowAR(width=a['width'], enc_depth=a['enc'], dec_depth=a['dec'], heads=max(1, a['width'] // 64),
                  flow_width=a['flow_width'], flow_depth=a['flow_depth'], num_classes=10, token_dim=16,
                  scales=(1, 2, 4, 8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--name', required=True)
    ap.add_argument('--width', type=int, required=True)
    ap.add_argument('--enc', type=int, required=True)
    ap.add_argument('--dec', type=int, required=True)
    ap.add_argument('--flow-width', type=int, required=True)
    ap.add_argument('--flow-depth', type=int, required=True)
    ap.add_argument('--steps', type=int, default=1000000)
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--wd', type=float, default=0.0)
    ap.add_argument('--ema', type=float, default=0.998)
    ap.add_argument('--latents', choices=('mean', 'sample'), default='mean')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt-every', type=float, default=180)
    args = ap.parse_args()
    common.setup(args.threads)
    torch.manual_seed(args.seed)
    lat = common.load_ckpt('marlatents.pt')
    means, stds, labels = lat['mean'], lat['std'], lat['labels']
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
        m, s, lb = means[i].float(), stds[i].float(), labels[i]
        z = m + s * torch.randn(m.shape, generator=g) if args.latents == 'sample' else m
        lr = args.lr * min(1.0, (step + 1) / 200) * (0.5 * (1 + math.cos(math.pi * progress())) * 0.95 + 0.05)
        for pg in opt.param_groups:
            pg['lr'] = lr
        loss, per_scale = model.loss(z, lb, generator=g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema_model.parameters(), model.parameters()):
                pe.mul_(decay).add_(p, alpha=1 - decay)
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0:
            log(step=step, loss=round(loss.item(), 4), ema_loss=round(ema, 4), per_scale=[round(v, 4) for v in
                per_scale], lr=lr, elapsed=round(spent + time.time() - t0, 1))
            print(step, round(ema, 4), [round(v, 3) for v in per_scale], flush=True)
        if time.time() - last > args.ckpt_every:
            save(); last = time.time()
    save()
    print('done', step, ema, flush=True)


if __name__ == '__main__':
    main()
