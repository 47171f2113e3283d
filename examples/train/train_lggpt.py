"""LlamaGen stage 2b: a class-conditional LlamaGen GPT (lg_gpt.py), teacher-forced on the precomputed codes, with
label dropout 0.1 for classifier-free guidance.

  nice -n 19 /usr/bin/python3 train_lggpt.py --name lg-target --dim 128 --layers 4 --minutes 30 --threads 1
  nice -n 19 /usr/bin/python3 train_lggpt.py --name lg-draft --dim 64 --layers 3 --minutes 20 --threads 1
  nice -n 19 /usr/bin/python3 train_lggpt.py --name nar --nar --dim 128 --layers 4 --minutes 30 --threads 1 \
      --init-from lg-target.pt --lr 5e-4
--nar trains NAR's GPT instead (lg_gpt.py: one extra block and the "below" head, the proximity mask, both heads'
neighbour losses).
Resumes from work/<name>.pt; heads = dim / 64 (what Tessera assumes for a LlamaGen checkpoint, as every release).
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

import common
from lg_gpt import Transformer, cost_per_token


def build(a, vocab):
    return Transformer(a['dim'], a['layers'], max(1, a['dim'] // 64), vocab, num_classes=10, grid=8,
                       multiple_of=a['multiple_of'], class_dropout_prob=0.1, extra_layers=1 if a.get('nar') else 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--name', required=True)
    ap.add_argument('--dim', type=int, required=True)
    ap.add_argument('--layers', type=int, required=True)
    ap.add_argument('--multiple-of', type=int, default=64)
    ap.add_argument('--nar', action='store_true', help="NAR's GPT (extra block, two heads, proximity mask)")
    ap.add_argument('--init-from', default=None,
                    help='start from a trained LlamaGen GPT of the same shape (work/<file>); with --nar the extra '
                         'block and the below head start as copies of the last block and the right head')
    ap.add_argument('--steps', type=int, default=100000)
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--wd', type=float, default=0.05)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt-every', type=float, default=180)
    args = ap.parse_args()
    common.setup(args.threads)
    torch.manual_seed(args.seed)
    tk = common.load_ckpt('lgtokens.pt')
    toks = torch.cat(tk['parts']).long()
    labels = tk['labels'][:len(toks)]
    vocab = common.load_ckpt('lgvq.pt')['cfg']['codebook_size']
    model = build(vars(args), vocab)
    if args.init_from and not common.load_ckpt(args.name + '.pt'):
        src = common.load_ckpt(args.init_from)['model']
        if args.nar:
            n = args.layers
            for k, v in list(src.items()):
                if k.startswith('layers.%d.' % (n - 1)):
                    src['layers.%d.' % n + k[len('layers.%d.' % (n - 1)):]] = v.clone()
            src['medusa_norm.weight'] = src['norm.weight'].clone()
            src['medusa_output.weight'] = src['output.weight'].clone()
        model.load_state_dict(src)
        print('initialised from', args.init_from, flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=args.wd)
    g = torch.Generator().manual_seed(args.seed)
    step, spent = 0, 0.0
    st = common.load_ckpt(args.name + '.pt')
    if st:
        model.load_state_dict(st['model']); opt.load_state_dict(st['opt']); g.set_state(st['rng'])
        torch.set_rng_state(st['torch_rng'])
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
        common.save_ckpt(args.name + '.pt', dict(model=model.state_dict(), opt=opt.state_dict(), rng=g.get_state(),
                                                 torch_rng=torch.get_rng_state(), step=step,
                                                 spent=spent + time.time() - t0, args=vars(args), vocab=vocab,
                                                 cost_per_token=cost_per_token(model), tokens_used=len(toks)))

    model.train()
    ema = None
    while progress() < 1.0:
        i = torch.randint(len(toks), (args.bs,), generator=g)
        tb, lb = toks[i], labels[i]
        lr = args.lr * min(1.0, (step + 1) / 200) * (0.5 * (1 + math.cos(math.pi * progress())) * 0.95 + 0.05)
        for pg in opt.param_groups:
            pg['lr'] = lr
        if args.nar:
            loss = model.nar_loss(lb, tb, generator=g)
        else:
            logits = model(lb, tb[:, :-1], train=True, generator=g)
            loss = F.cross_entropy(logits.reshape(-1, vocab), tb.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0:
            log(step=step, loss=round(loss.item(), 4), ema_loss=round(ema, 4), lr=lr,
                elapsed=round(spent + time.time() - t0, 1))
            print(step, round(ema, 4), flush=True)
        if time.time() - last > args.ckpt_every:
            save(); last = time.time()
    save()
    print('done', step, ema, flush=True)


if __name__ == '__main__':
    main()
