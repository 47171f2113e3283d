"""MAR stage: writes mar-target.safetensors and mar-draft.safetensors (the EMA weights, a flat state_dict with the
release's names: Tessera loads it as a released file's 'model_ema') with their JSON cards into
examples/models/fmnist/ from the work checkpoints (safetensors only, no pickle). The KL autoencoder is FlowAR's
kl-vae.safetensors (flowar_export.py), unchanged.

  /usr/bin/python3 mar_export.py [--measured FILE]
--measured puts Tessera's measurements (the JSON `tessera bench samplers --only mar,... --json` writes) into both
cards as 'tessera_measurements'; without it a card keeps the numbers it has.
"""
import argparse
import json
import os

import common
import data
import st
from export import OUT, card, last_log, nparams
from lg_export import cmd, load_json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--measured', default=None)
    args = ap.parse_args()
    common.setup(1)
    measured = json.load(open(args.measured)) if args.measured else None
    for name in ('mar-target', 'mar-draft'):
        s = common.load_ckpt(name + '.pt')
        if not s:
            continue
        a = s['args']
        old = os.path.join(OUT, name + '.json')
        keep = measured or (json.load(open(old)).get('tessera_measurements') if os.path.exists(old) else None)
        st.save(s['ema'], os.path.join(OUT, name + '.safetensors'),
                metadata={'format': 'pt', 'model': 'MAR', 'dataset': 'fashion-mnist'})
        heads = max(1, a['width'] // 64)
        official = dict(img_size=32, vae_stride=4, patch_size=1, encoder_embed_dim=a['width'],
                        encoder_depth=a['depth'], encoder_num_heads=heads, decoder_embed_dim=a['width'],
                        decoder_depth=a['depth'], decoder_num_heads=heads, mlp_ratio=4, vae_embed_dim=16,
                        mask_ratio_min=0.7, label_drop_prob=0.1, class_num=10, attn_dropout=0.0,
                        proj_dropout=0.0, buffer_size=a['buffer'], diffloss_d=a['mlp_depth'],
                        diffloss_w=a['mlp_width'], num_sampling_steps='100',
                        diffusion_batch_mul=a['batch_mul'])
        card(name, dict(file=name + '.safetensors', family='mar', role=name.split('-')[1], vae='kl-vae.safetensors',
                        official_model_args=official, heads=[heads, heads], classes=data.CLASSES, image_size=32,
                        grid=8, tokens=64, parameters=nparams(s['ema']),
                        linear_weights=s['linear_macs'], steps=s['step'], batch_size=a['bs'],
                        train_seconds=round(s['spent'], 1), ema_decay=a['ema'],
                        final_losses=dict(loss=last_log(name + '.log.jsonl', 'loss'),
                                          loss_ema=last_log(name + '.log.jsonl', 'ema_loss'),
                                          mse=last_log(name + '.log.jsonl', 'mse')),
                        judge_accuracy_of_samples_pytorch=load_json('eval-%s.json' % name), seed=a['seed'],
                        command=cmd('train_mar.py', a), tessera_measurements=keep))
    print('written to', OUT)


if __name__ == '__main__':
    main()
