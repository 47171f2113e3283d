"""Stage 2b: a class-conditional VAR transformer, teacher-forced on the precomputed tokens.

  nice -n 19 /usr/bin/python3 train_var.py --depth 2 --minutes 30      # resumes from work/var-d2.pt
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

import common
from tokens import load_vae
from var_model import VAR


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depth', type=int, required=True)
    ap.add_argument('--steps', type=int, default=100000)
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--wd', type=float, default=0.05)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt-every', type=float, default=180)
    args = ap.parse_args()
    common.setup(args.threads)
    torch.manual_seed(args.seed)
    vae = load_vae()
    tk = common.load_ckpt('tokens.pt')
    toks = torch.cat(tk['parts']).long()
    labels = tk['labels'][:len(toks)]
    pn = vae.quantize.v_patch_nums
    splits = [p * p for p in pn]
    name = 'var-d%d' % args.depth
    model = VAR(vae.Cvae, vae.V, num_classes=10, depth=args.depth, patch_nums=pn, cond_drop_rate=0.1)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=args.wd)
    g = torch.Generator().manual_seed(args.seed)
    step, spent = 0, 0.0
    st = common.load_ckpt(name + '.pt')
    if st:
        model.load_state_dict(st['model']); opt.load_state_dict(st['opt']); g.set_state(st['rng'])
        torch.set_rng_state(st['torch_rng'])
        step, spent = st['step'], st['spent']
        print('resumed at step', step, flush=True)
    log = common.Log(name + '.log.jsonl')
    t0, last = time.time(), time.time()

    def progress():
        p = step / args.steps
        if args.minutes > 0:
            p = max(p, (spent + time.time() - t0) / (60 * args.minutes))
        return min(p, 1.0)

    def save():
        common.save_ckpt(name + '.pt', dict(model=model.state_dict(), opt=opt.state_dict(), rng=g.get_state(),
                                            torch_rng=torch.get_rng_state(), step=step, spent=spent + time.time() - t0,
                                            args=vars(args), depth=args.depth, tokens_used=len(toks)))

    model.train()
    ema_loss = None
    while progress() < 1.0:
        idx = torch.randint(len(toks), (args.bs,), generator=g)
        tb, lb = toks[idx], labels[idx]
        with torch.no_grad():
            inp = vae.quantize.teacher_inputs(list(tb.split(splits, 1)))
        lr = args.lr * min(1.0, (step + 1) / 200) * (0.5 * (1 + math.cos(math.pi * progress())) * 0.95 + 0.05)
        for pgp in opt.param_groups:
            pgp['lr'] = lr
        logits = model(lb, inp)
        loss = F.cross_entropy(logits.reshape(-1, vae.V), tb.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        step += 1
        ema_loss = loss.item() if ema_loss is None else 0.98 * ema_loss + 0.02 * loss.item()
        if step % 50 == 0:
            with torch.no_grad():
                acc = (logits.argmax(-1) == tb).float().mean().item()
            log(step=step, loss=round(loss.item(), 4), ema_loss=round(ema_loss, 4), acc=round(acc, 4), lr=lr,
                elapsed=round(spent + time.time() - t0, 1))
            print(step, round(ema_loss, 4), round(acc, 4), flush=True)
        if time.time() - last > args.ckpt_every:
            save(); last = time.time()
    save()
    print('done', step, ema_loss, flush=True)


if __name__ == '__main__':
    main()
