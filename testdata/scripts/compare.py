"""Compares two reference files tensor by tensor, bit for bit.

  python3 testdata/scripts/compare.py NEW.safetensors testdata/var-sampled/golden.safetensors
  python3 testdata/scripts/compare.py NEW.pth testdata/flowar-sampled/flowar-cross.pth

safetensors: every tensor (dtype, shape, bytes), the ``__metadata__`` and the whole file. ``.pth`` (a state dict
written by ``torch.save``): the keys in order and every tensor's dtype, shape and bytes, then the whole file.
Exit status 0 when identical.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refkit  # noqa: E402


def compare_pth(new_path, old_path):
    import torch
    new = torch.load(new_path, map_location='cpu')
    old = torch.load(old_path, map_location='cpu')
    ok = list(new.keys()) == list(old.keys())
    if not ok:
        print(f'  keys differ: {len(new)} vs committed {len(old)}')
    for k, b in old.items():
        a = new.get(k)
        if a is None:
            print(f'  {k}: MISSING')
            ok = False
        elif a.dtype != b.dtype or a.shape != b.shape:
            print(f'  {k}: {a.dtype}{list(a.shape)} vs committed {b.dtype}{list(b.shape)}')
            ok = False
        elif a.contiguous().numpy().tobytes() != b.contiguous().numpy().tobytes():
            print(f'  {k}: DIFFERS in {int((a != b).sum())} of {b.numel()} values')
            ok = False
    print(f'  {len(old)} tensors: {"all identical" if ok else "not identical"}')
    with open(new_path, 'rb') as f1, open(old_path, 'rb') as f2:
        same = f1.read() == f2.read()
    print(f'  whole file: {"byte-identical" if same else "bytes differ (zip entry names follow the file name)"}')
    return ok


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    new, old = sys.argv[1], sys.argv[2]
    print(f'{new} vs {old}:')
    ok = compare_pth(new, old) if old.endswith('.pth') else refkit.compare_safetensors(new, old)
    print('IDENTICAL' if ok else 'DIFFERENT')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
