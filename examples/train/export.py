"""Stage 4: writes the bundle examples/models/fmnist/ from the work checkpoints, safetensors only (no pickle).

  /usr/bin/python3 export.py
Files: vae.safetensors, var-d<N>.safetensors, judge.safetensors, one <name>.json card per model,
fmnist-test-500.safetensors (500 test images, 50 per class, uint8 [500, 32, 32] and labels) and
judge-stats.safetensors (mean and covariance of the judge's penultimate features on the train and test sets, float64).
"""
import glob
import json
import os
import re

import numpy as np
import torch

import common
import data
import st
from judge import Judge
from tokens import load_vae

OUT = os.environ.get('FMNIST_OUT', os.path.join(os.path.dirname(common.HERE), 'models', 'fmnist'))


def nparams(sd):
    return int(sum(v.numel() for k, v in sd.items() if v.is_floating_point() and 'attn_bias' not in k
                   and 'ema_vocab' not in k and 'zero_k_bias' not in k))


def last_log(name, key):
    p = common.path(name)
    val = None
    if os.path.exists(p):
        for line in open(p):
            r = json.loads(line)
            if key in r:
                val = r[key]
    return val


def card(name, obj):
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')


def main():
    common.setup(2)
    os.makedirs(OUT, exist_ok=True)
    vst = common.load_ckpt('vae.pt')
    vae = load_vae()
    sd = vae.state_dict()
    st.save(sd, os.path.join(OUT, 'vae.safetensors'), metadata={'format': 'pt', 'model': 'VAR VQVAE', 'dataset': 'fashion-mnist'})
    cfg = dict(vst['cfg']); cfg['ch_mult'] = list(cfg['ch_mult']); cfg['v_patch_nums'] = list(cfg['v_patch_nums'])
    card('vae', dict(file='vae.safetensors', family='var-vqvae', config=cfg, parameters=nparams(sd),
                     image_size=32, downsample=2 ** (len(cfg['ch_mult']) - 1), steps=vst['step'], batch_size=vst['args']['bs'],
                     train_seconds=round(vst['spent'], 1), final_losses=dict(total=last_log('vae.log.jsonl', 'loss'),
                     reconstruction_mse_plus_l1=last_log('vae.log.jsonl', 'rec'), vq=last_log('vae.log.jsonl', 'vq')),
                     test_psnr_db=round(vst.get('test_psnr', float('nan')), 3), seed=vst['args']['seed'],
                     command='nice -n 19 /usr/bin/python3 train_vae.py ' + ' '.join(
                         '--%s %s' % (k.replace('_', '-'), v) for k, v in vst['args'].items())))
    for p in sorted(glob.glob(common.path('var-d*.pt'))):
        name = os.path.basename(p)[:-3]
        s = common.load_ckpt(os.path.basename(p))
        sd = s['model']
        st.save(sd, os.path.join(OUT, name + '.safetensors'), metadata={'format': 'pt', 'model': 'VAR', 'dataset': 'fashion-mnist'})
        ev = common.path('eval-%s.json' % name)
        ev = json.load(open(ev)) if os.path.exists(ev) else None
        d = s['depth']
        card(name, dict(file=name + '.safetensors', family='var', depth=d, width=d * 64, heads=d, num_classes=10,
                        classes=data.CLASSES, patch_nums=cfg['v_patch_nums'], vocab=cfg['vocab_size'], cond_drop_rate=0.1,
                        attn_l2_norm=True, shared_aln=False, parameters=nparams(sd), steps=s['step'],
                        batch_size=s['args']['bs'], train_seconds=round(s['spent'], 1), tokens_used=s.get('tokens_used'),
                        final_losses=dict(cross_entropy=last_log(name + '.log.jsonl', 'loss'),
                                          cross_entropy_ema=last_log(name + '.log.jsonl', 'ema_loss'),
                                          token_accuracy=last_log(name + '.log.jsonl', 'acc')),
                        judge_accuracy_of_samples=ev, seed=s['args']['seed'], tokenizer='vae.safetensors',
                        command='nice -n 19 /usr/bin/python3 train_var.py ' + ' '.join(
                            '--%s %s' % (k.replace('_', '-'), v) for k, v in s['args'].items())))
    js = common.load_ckpt('judge.pt')
    if js:
        sd = js['model']
        st.save(sd, os.path.join(OUT, 'judge.safetensors'), metadata={'format': 'pt', 'model': 'fmnist judge CNN'})
        card('judge', dict(file='judge.safetensors', family='classifier',
                           architecture='conv3x3(3->32)+ReLU+maxpool2, conv3x3(32->64)+ReLU+maxpool2, conv3x3(64->128)+ReLU+maxpool2, '
                                        'flatten (C,H,W) 2048, fc1 2048->128 + ReLU (features), fc2 128->10',
                           input='[B, 3, 32, 32] in [-1, 1] (grey in all three channels, 2 px black border)',
                           classes=data.CLASSES, parameters=nparams(sd), steps=js['step'], batch_size=js['args']['bs'],
                           train_seconds=round(js['spent'], 1), final_loss=js.get('final_loss'),
                           test_accuracy=js.get('test_acc'), seed=js['args']['seed'],
                           command='nice -n 19 /usr/bin/python3 judge.py ' + ' '.join(
                               '--%s %s' % (k.replace('_', '-'), v) for k, v in js['args'].items())))
        judge = Judge(); judge.load_state_dict(sd); judge.eval()
        stats = {}
        for split in ('train', 'test'):
            x, _ = data.load(split)
            with torch.no_grad():
                f = torch.cat([judge.features(x[i:i + 1000]) for i in range(0, len(x), 1000)]).double()
            stats[split + '.mu'] = f.mean(0)
            stats[split + '.sigma'] = torch.from_numpy(np.cov(f.numpy(), rowvar=False))
        st.save(stats, os.path.join(OUT, 'judge-stats.safetensors'),
                metadata={'what': 'mean and covariance (np.cov, N-1) of Judge.features on the train and test sets'})
    u8, y = data.load_uint8('test')
    pick = np.concatenate([np.nonzero(y == c)[0][:50] for c in range(10)])
    st.save({'images': torch.from_numpy(u8[pick].copy()), 'labels': torch.from_numpy(y[pick].copy())},
            os.path.join(OUT, 'fmnist-test-500.safetensors'),
            metadata={'what': 'the first 50 test images of each class, 32x32 uint8 grey (2 px border); pixel/127.5-1 in 3 channels is the model input'})
    write_readme()
    total = sum(os.path.getsize(f) for f in glob.glob(os.path.join(OUT, '*')))
    print('bundle bytes', total)


def write_readme():
    cards = {os.path.basename(p)[:-5]: json.load(open(p)) for p in sorted(glob.glob(os.path.join(OUT, '*.json')))}
    cards = {n: c for n, c in cards.items() if not c.get('family', '').startswith('llamagen')}   # lg_export.py's
    L = ['# Fashion-MNIST model zoo (trained here)', '',
         'Trained by the recipe in `examples/train/` (see its README for the commands) on Fashion-MNIST (MIT licence, '
         'Debian `dataset-fashion-mnist`), images 32x32 RGB (the 28x28 picture centred with a 2-pixel black border, '
         'grey in all three channels). Classes: ' + ', '.join('%d %s' % (i, c) for i, c in enumerate(data.CLASSES)) + '.',
         '', 'All weights are `.safetensors` (no pickle) with the official FoundationVision/VAR parameter names and shapes.',
         '', '| file | model | parameters | steps | train time | final loss | quality |', '|---|---|---|---|---|---|---|']
    def f4(v):
        return '?' if v is None else '%.4f' % v
    for n, c in cards.items():
        if n == 'vae':
            q, fl = 'test PSNR %.2f dB' % c['test_psnr_db'], 'rec %s, vq %s' % (f4(c['final_losses']['reconstruction_mse_plus_l1']), f4(c['final_losses']['vq']))
        elif n == 'judge':
            q, fl = 'test accuracy %.2f%%' % (100 * c['test_accuracy']), f4(c['final_loss'])
        else:
            ev = c.get('judge_accuracy_of_samples') or {}
            res = ev.get('results', {})
            q = ', '.join('cfg %s: %.1f%%' % (k, 100 * v['accuracy']) for k, v in res.items()) + (
                ' (judge accuracy of %d samples/class, top-k %s)' % (ev['per_class'], ev['top_k']) if ev else '')
            fl = 'CE %s (EMA)' % f4(c['final_losses']['cross_entropy_ema'])
        L.append('| `%s` | %s | %s | %s | %.1f min | %s | %s |' % (c['file'], n, '{:,}'.format(c['parameters']), c['steps'],
                                                               c['train_seconds'] / 60, fl, q))
    L += ['', 'Also here: `fmnist-test-500.safetensors` (the first 50 test images of each class, uint8) and '
          '`judge-stats.safetensors` (mean/covariance of the judge features on the train and test sets, for the FID '
          'and its real-vs-real floor). Each model has a JSON card with its configuration, seed and command.', '',
          'Recommended sampling for the VAR models: cfg 3 (VAR\'s linear CFG ramp over the scales), top-k 0, top-p 0.', '',
          'Train times are wall-clock on a 2-core machine shared with other jobs, under `nice -n 19`.', '']
    readme = os.path.join(OUT, 'README.md')
    keep = ''
    if os.path.exists(readme):   # sections written by other recipes (lg_export.py's LlamaGen part) stay
        old = open(readme).read()
        keep = old[old.index(MARK):] if MARK in old else ''
    open(readme, 'w').write('\n'.join(L) + ('\n' + keep if keep else ''))


MARK = '<!-- other families -->'


if __name__ == '__main__':
    main()
