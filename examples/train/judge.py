"""Stage 3: the judge, a small CNN classifier of 32x32 Fashion-MNIST images in [-1, 1].

  nice -n 19 /usr/bin/python3 judge.py --epochs 3          # resumes from work/judge.pt

Three 3x3 conv + ReLU + 2x2 max-pool stages (32, 64, 128 channels), fc1 2048->128 + ReLU (the penultimate
features, used for the judge-space FID), fc2 128->10. No batch norm, so the Java side needs only convs and linears.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import common
import data


class Judge(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1, 1)
        self.conv3 = nn.Conv2d(64, 128, 3, 1, 1)
        self.fc1 = nn.Linear(128 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def features(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = F.max_pool2d(F.relu(self.conv3(h)), 2)
        return F.relu(self.fc1(h.flatten(1)))    # flatten in C, H, W order

    def forward(self, x):
        return self.fc2(self.features(x))


def accuracy(model, x, y, bs=500):
    model.eval()
    ok = 0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            ok += (model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    model.train()
    return ok / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=float, default=3)
    ap.add_argument('--bs', type=int, default=128)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt-every', type=float, default=180)
    args = ap.parse_args()
    common.setup(args.threads)
    torch.manual_seed(args.seed)
    x, y = data.load('train')
    xt, yt = data.load('test')
    model = Judge()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    g = torch.Generator().manual_seed(args.seed)
    steps = int(args.epochs * len(x) / args.bs)
    step, spent = 0, 0.0
    st = common.load_ckpt('judge.pt')
    if st:
        model.load_state_dict(st['model']); opt.load_state_dict(st['opt']); g.set_state(st['rng'])
        step, spent = st['step'], st['spent']
        print('resumed at step', step, flush=True)
    log = common.Log('judge.log.jsonl')
    t0, last = time.time(), time.time()

    def save():
        common.save_ckpt('judge.pt', dict(model=model.state_dict(), opt=opt.state_dict(), rng=g.get_state(),
                                          step=step, spent=spent + time.time() - t0, args=vars(args)))

    while step < steps:
        idx = torch.randint(len(x), (args.bs,), generator=g)
        xb = F.pad(x[idx], (2, 2, 2, 2), value=-1.0)
        dx, dy = torch.randint(5, (2,), generator=g).tolist()   # random shift of up to 2 px
        xb = xb[:, :, dy:dy + 32, dx:dx + 32]
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        for pg in opt.param_groups:
            pg['lr'] = lr
        loss = F.cross_entropy(model(xb), y[idx], label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            log(step=step, loss=round(loss.item(), 4), lr=lr, elapsed=round(spent + time.time() - t0, 1))
            print(step, steps, round(loss.item(), 4), flush=True)
        if time.time() - last > args.ckpt_every:
            save(); last = time.time()
    save()
    acc = accuracy(model, xt, yt)
    log(step=step, test_acc=acc, elapsed=round(spent + time.time() - t0, 1))
    st = common.load_ckpt('judge.pt'); st['test_acc'] = acc; st['final_loss'] = loss.item(); common.save_ckpt('judge.pt', st)
    print('test accuracy', acc, flush=True)


if __name__ == '__main__':
    main()
