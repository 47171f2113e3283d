#!/usr/bin/env bash
# The whole recipe, stage by stage; each stage resumes from examples/train/work/ when interrupted, so re-running
# this script after an interruption continues where it stopped. Budgets are wall-clock minutes on a shared 2-core box.
set -euo pipefail
cd "$(dirname "$0")"
py="nice -n 19 /usr/bin/python3"
$py judge.py --epochs 5 --threads 1 &                   # stage 3 (independent of the others) alongside stage 1
$py train_vae.py --steps 100000 --minutes 24 --bs 24   # stage 1
wait
$py tokens.py --limit 30000                              # stage 2a
$py train_var.py --depth 2 --minutes 35 --bs 64 --lr 2e-3 --threads 1 &   # stage 2b, both depths side by side
$py train_var.py --depth 3 --minutes 35 --bs 64 --lr 1e-3 --threads 1
wait
$py evaluate.py --depth 2 --cfg 0,1,2,3,4
$py evaluate.py --depth 3 --cfg 0,1,2,3,4
/usr/bin/python3 export.py
/usr/bin/python3 make_judge_reference.py                 # the Java judge test's reference, from the new judge
# LlamaGen family (lg_*.py): tokenizer, codes, target beside draft, PyTorch eval, export (cards + Tessera's numbers)
$py train_lgvq.py --minutes 20 --threads 1
$py lg_tokens.py --threads 1
$py train_lggpt.py --name lg-target --dim 128 --layers 4 --minutes 28 --lr 1e-3 --threads 1 &
$py train_lggpt.py --name lg-draft --dim 64 --layers 3 --minutes 20 --lr 2e-3 --threads 1
wait
$py lg_evaluate.py --name lg-target --per-class 10 --cfg 1,2,3,4,5 --recon 2000 --threads 1
$py lg_evaluate.py --name lg-draft --per-class 10 --cfg 1,2,3,4,5 --threads 1
/usr/bin/python3 lg_export.py       # then the Java measurement (README), and lg_export.py --measured FILE
