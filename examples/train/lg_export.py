"""LlamaGen stage 4: writes lg-vq.safetensors, lg-target.safetensors, lg-draft.safetensors, lg-nar.safetensors (NAR on
the same tokenizer) and their JSON cards into examples/models/fmnist/ from the work checkpoints (safetensors only,
no pickle).

  /usr/bin/python3 lg_export.py [--measured measured.json]
The tokenizer's 'quantize.codebook_used' buffer (the release's usage counter, 65,536 floats, not a weight) is left
out; everything else is the state_dict as is. --measured puts Tessera's measurements of the pair (the JSON that
examples/eval's LlamaGenZooMeasurement writes) into both GPT cards as 'tessera_measurements'.
"""
import argparse
import json
import os

import common
import data
import st
from export import OUT, card, last_log, nparams


def cmd(script, args):
    return 'nice -n 19 /usr/bin/python3 %s ' % script + ' '.join('--%s %s' % (k.replace('_', '-'), v) for k, v in args.items())


def load_json(name):
    p = common.path(name)
    return json.load(open(p)) if os.path.exists(p) else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--measured', default=None)
    args = ap.parse_args()
    common.setup(1)
    measured = json.load(open(args.measured)) if args.measured else {}
    vs = common.load_ckpt('lgvq.pt')
    sd = {k: v for k, v in vs['model'].items() if k != 'quantize.codebook_used'}
    st.save(sd, os.path.join(OUT, 'lg-vq.safetensors'), metadata={'format': 'pt', 'model': 'LlamaGen VQModel', 'dataset': 'fashion-mnist'})
    cfg = dict(vs['cfg']); cfg['ch_mult'] = list(cfg['ch_mult'])
    card('lg-vq', dict(file='lg-vq.safetensors', family='llamagen-vq', config=cfg, codebook_l2_norm=True,
                       official_model_args=dict(codebook_size=cfg['codebook_size'], codebook_embed_dim=cfg['codebook_embed_dim'],
                                                codebook_l2_norm=True, encoder_ch_mult=cfg['ch_mult'], decoder_ch_mult=cfg['ch_mult'],
                                                z_channels=cfg['z_channels'], encoder_decoder_ch=cfg['ch'],
                                                num_res_blocks=cfg['num_res_blocks']),
                       parameters=nparams(sd), image_size=32, downsample=2 ** (len(cfg['ch_mult']) - 1), grid=8,
                       steps=vs['step'], batch_size=vs['args']['bs'], train_seconds=round(vs['spent'], 1),
                       final_losses=dict(total=last_log('lgvq.log.jsonl', 'loss'),
                                         reconstruction_mse_plus_l1=last_log('lgvq.log.jsonl', 'rec'),
                                         codebook_plus_commitment=last_log('lgvq.log.jsonl', 'vq'),
                                         codes_used_last_25_steps=last_log('lgvq.log.jsonl', 'used')),
                       test_psnr_db=round(vs.get('test_psnr', float('nan')), 3),
                       judge_accuracy_of_reconstructions=load_json('eval-lgvq.json'), seed=vs['args']['seed'],
                       command=cmd('train_lgvq.py', vs['args'])))
    for name in ('lg-target', 'lg-draft', 'lg-nar'):
        work = 'nar' if name == 'lg-nar' else name   # the work files' name
        s = common.load_ckpt(work + '.pt')
        if not s:
            continue
        a = s['args']
        old = os.path.join(OUT, name + '.json')   # without --measured, the card keeps the numbers it has
        keep = measured or (json.load(open(old)).get('tessera_measurements') if os.path.exists(old) else None)
        nar = name == 'lg-nar'
        if nar:
            keep = None   # the sampler measurements belong to the LlamaGen pair
        st.save(s['model'], os.path.join(OUT, name + '.safetensors'),
                metadata={'format': 'pt', 'model': 'NAR GPT c2i' if nar else 'LlamaGen GPT c2i',
                          'dataset': 'fashion-mnist'})
        args = dict(dim=a['dim'], n_layer=a['layers'], n_head=max(1, a['dim'] // 64), multiple_of=a['multiple_of'],
                    vocab_size=s['vocab'], num_classes=10, cls_token_num=1, block_size=64, class_dropout_prob=0.1,
                    model_type='c2i')
        if nar:
            args['medusa_attention_num'] = 1
        card(name, dict(file=name + '.safetensors', family='nar' if nar else 'llamagen',
                        role='target' if nar else name[3:], tokenizer='lg-vq.safetensors',
                        official_model_args=args,
                        classes=data.CLASSES, image_size=32, grid=8, parameters=nparams(s['model']),
                        linear_macs_per_token=s['cost_per_token'], steps=s['step'], batch_size=a['bs'],
                        train_seconds=round(s['spent'], 1), tokens_used=s['tokens_used'],
                        final_losses=dict(cross_entropy=last_log(work + '.log.jsonl', 'loss'),
                                          cross_entropy_ema=last_log(work + '.log.jsonl', 'ema_loss')),
                        judge_accuracy_of_samples_pytorch=load_json('eval-%s.json' % name), seed=a['seed'],
                        command=cmd('train_lggpt.py', {k: v for k, v in a.items() if k != 'nar'}) + (' --nar' if nar else ''),
                        tessera_measurements=keep))
    print('written to', OUT)


if __name__ == '__main__':
    main()
