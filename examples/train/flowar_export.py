"""FlowAR stage 4: writes kl-vae.safetensors (MAR's AutoencoderKL at 32 px), flowar-target.safetensors and
flowar-draft.safetensors (the EMA weights) with their JSON cards into examples/models/fmnist/ from the work
checkpoints (safetensors only, no pickle).

  /usr/bin/python3 flowar_export.py [--measured measured.json]
The state_dicts are written as they are (FlowAR's 'mask' training buffer and the 'rope.freqs' buffers included, as
in the released files). --measured puts Tessera's measurements (the JSON examples/eval's FlowArZooMeasurement
writes) into both FlowAR cards as 'tessera_measurements'.
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
    measured = json.load(open(args.measured)) if args.measured else {}
    vs = common.load_ckpt('marvae-scaled.pt')
    st.save(vs['model'], os.path.join(OUT, 'kl-vae.safetensors'),
            metadata={'format': 'pt', 'model': 'MAR AutoencoderKL', 'dataset': 'fashion-mnist'})
    cfg = dict(vs['cfg'])
    cfg['ch_mult'], cfg['attn_resolutions'] = list(cfg['ch_mult']), list(cfg['attn_resolutions'])
    card('kl-vae', dict(file='kl-vae.safetensors', family='mar-kl-vae', config=cfg,
                        official_model_args=dict(embed_dim=cfg['embed_dim'], ch_mult=cfg['ch_mult'], ch=cfg['ch'],
                                                 num_res_blocks=cfg['num_res_blocks'], z_channels=cfg['embed_dim'],
                                                 resolution=32, encoder_attn_resolutions=cfg['attn_resolutions'],
                                                 decoder_attn_resolutions=[], use_variational=True),
                        latent_scale=0.2325, latent_rescale_factor=round(vs['factor'], 6),
                        latent_std_before_rescale=round(vs['std_before'], 6),
                        parameters=nparams(vs['model']), image_size=32, downsample=2 ** (len(cfg['ch_mult']) - 1),
                        grid=8, steps=vs['step'], batch_size=vs['args']['bs'], train_seconds=round(vs['spent'], 1),
                        final_losses=dict(total=last_log('marvae.log.jsonl', 'loss'),
                                          reconstruction_mse_plus_l1=last_log('marvae.log.jsonl', 'rec'),
                                          kl=last_log('marvae.log.jsonl', 'kl')),
                        test_psnr_db=round(vs.get('test_psnr') or (load_json('eval-klvae.json') or {}).get(
                            'psnr', float('nan')), 3),
                        judge_accuracy_of_reconstructions=load_json('eval-klvae.json'), seed=vs['args']['seed'],
                        command=cmd('train_marvae.py', vs['args']) + ' && ' + 'nice -n 19 /usr/bin/python3 '
                                                                               'mar_latents.py --limit 20000 --threads 1'))
    for name in ('flowar-target', 'flowar-draft'):
        s = common.load_ckpt(name + '.pt')
        if not s:
            continue
        a = s['args']
        old = os.path.join(OUT, name + '.json')   # without --measured, the card keeps the numbers it has
        keep = measured or (json.load(open(old)).get('tessera_measurements') if os.path.exists(old) else None)
        st.save(s['ema'], os.path.join(OUT, name + '.safetensors'),
                metadata={'format': 'pt', 'model': 'FlowAR', 'dataset': 'fashion-mnist'})
        heads = max(1, a['width'] // 64)
        official = dict(img_size=32, vae_stride=4, patch_size=1, encoder_embed_dim=a['width'],
                        encoder_depth=a['enc'], encoder_num_heads=heads, decoder_embed_dim=a['width'],
                        decoder_depth=a['dec'], decoder_num_heads=heads, mlp_ratio=4, vae_embed_dim=16,
                        label_drop_prob=0.1, class_num=10, buffer_size=0, diffloss_d=a['flow_depth'],
                        diffloss_w=a['flow_width'], scale=[1, 2, 4, 8], cross=False)
        ar, flow = s['linear_macs']
        card(name, dict(file=name + '.safetensors', family='flowar', role=name.split('-')[1], vae='kl-vae.safetensors',
                        official_model_args=official, class_emb_rows=11, null_class=10,
                        next_scale_resize='bicubic to the 8x8 grid, then area (the release writes 16, its grid)',
                        classes=data.CLASSES, image_size=32, grid=8, parameters=nparams(s['ema']),
                        linear_macs_per_token=dict(ar=ar, flow_head_per_evaluation=flow,
                                                   sampling_25_steps=ar + 24 * flow),
                        steps=s['step'], batch_size=a['bs'], train_seconds=round(s['spent'], 1),
                        ema_decay=a['ema'],
                        final_losses=dict(flow_loss=last_log(name + '.log.jsonl', 'loss'),
                                          flow_loss_ema=last_log(name + '.log.jsonl', 'ema_loss'),
                                          per_scale=last_log(name + '.log.jsonl', 'per_scale')),
                        judge_accuracy_of_samples_pytorch=load_json('eval-%s.json' % name), seed=a['seed'],
                        command=cmd('train_flowar.py', a), tessera_measurements=keep))
    print('written to', OUT)


if __name__ == '__main__':
    main()
