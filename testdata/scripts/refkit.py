"""Shared helpers of the scripts that remake the sampled reference sets (testdata/*-sampled).

Nothing here computes a reference. It holds what the four make_*.py scripts have in common:

* ``check_environment``: prints the PyTorch version and the OpenBLAS kernels in use, and warns when they are not
  the ones the references were made with.
* ``pin_checkout``: checks that the official repository given on the command line is the pinned commit. A git
  checkout is asked for ``git rev-parse HEAD``; in every case the git blob id (SHA-1 of ``blob <size>\\0`` + bytes)
  of each file the script imports is compared with the id recorded from the pinned commit, so an export without
  ``.git`` (``git archive``) is checked too. A different HEAD is a warning; a different imported file is an error
  unless ``--any-commit`` is given.
* ``stub_module``: puts a stand-in module into ``sys.modules`` (for imports the official code makes but never
  uses on this path, or for a module PyTorch 1.13 lacks). Nothing on disk is changed.
* ``sdpa_math``: a plain-math stand-in for ``F.scaled_dot_product_attention`` (absent from PyTorch 1.13).
* ``write_safetensors`` / ``read_safetensors``: the safetensors layout the committed files use (8-byte
  little-endian header length, ``json.dumps`` header with ``__metadata__`` first and the tensors in insertion
  order, padded with spaces to a multiple of 8, raw little-endian data).
* ``finish``: writes the new file (``--out``) or compares it with the committed one (``--check``), tensor by
  tensor, bit for bit, and then byte for byte.
"""
import argparse
import contextlib
import ctypes
import hashlib
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch

# importing the official code must not leave __pycache__ folders in its checkout
sys.dont_write_bytecode = True

TESTDATA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def git_blob_id(path):
    with open(path, 'rb') as f:
        data = f.read()
    return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()


def pin_checkout(repo, commit, blobs, any_commit=False):
    """Checks `repo` against the pinned `commit` and the blob ids `blobs` ({relative path: sha1})."""
    repo = os.path.abspath(repo)
    try:
        head = subprocess.run(['git', '-C', repo, 'rev-parse', 'HEAD'], capture_output=True, text=True,
                              check=True).stdout.strip()
        if head != commit:
            print(f'WARNING: {repo} is at {head}, the references were made at {commit}', file=sys.stderr)
    except (subprocess.CalledProcessError, FileNotFoundError):
        print(f'WARNING: {repo} is not a git checkout; expected commit {commit} '
              f'(checking the imported files against it instead)', file=sys.stderr)
    bad = []
    for rel, want in blobs.items():
        p = os.path.join(repo, rel)
        got = git_blob_id(p) if os.path.exists(p) else 'missing'
        if got != want:
            bad.append(f'{rel}: {got}, pinned {want}')
    if bad:
        msg = f'files differ from {commit}:\n  ' + '\n  '.join(bad)
        if not any_commit:
            sys.exit('ERROR: ' + msg + '\n(use --any-commit to run anyway)')
        print('WARNING: ' + msg, file=sys.stderr)
    return repo


def check_environment():
    """Prints (and warns about) what the float rounding of these runs depends on.

    The references were made with Debian 12's PyTorch 1.13.1 (python3-torch) and OpenBLAS 0.3.21, whose matrix
    products ran the ``Cooperlake`` kernels (OpenBLAS's choice on an AVX-512 machine with bf16; forced with
    ``OPENBLAS_CORETYPE=Cooperlake``). Other kernels (``Haswell``, ``SkylakeX``, ...) sum in another order: sampled
    tokens usually survive that, FlowAR's float latents do not (differences of 1e-5)."""
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s)', file=sys.stderr)
    if not torch.__version__.startswith('1.13'):
        print('WARNING: the references were made with PyTorch 1.13', file=sys.stderr)
    core = None
    for name in ('libopenblas.so.0', 'libblas.so.3'):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            core = lib.openblas_get_corename().decode()
            break
        except (OSError, AttributeError):
            pass
    print(f'OpenBLAS core: {core}', file=sys.stderr)
    if core != 'Cooperlake':
        print('WARNING: the references were made with OpenBLAS\'s Cooperlake kernels '
              '(OPENBLAS_CORETYPE=Cooperlake); float results may differ in the last bits', file=sys.stderr)


def stub_module(name, **attrs):
    """Registers an in-memory module `name` (and its parents) holding `attrs`."""
    parts = name.split('.')
    for i in range(1, len(parts) + 1):
        sub = '.'.join(parts[:i])
        if sub not in sys.modules:
            mod = types.ModuleType(sub)
            mod.__stub__ = True
            sys.modules[sub] = mod
            if i > 1:
                setattr(sys.modules['.'.join(parts[:i - 1])], parts[i - 1], mod)
    mod = sys.modules[name]
    for k, v in attrs.items():
        setattr(mod, k, v)
    return mod


def sdpa_math(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """Stand-in for F.scaled_dot_product_attention: softmax(q k^T / sqrt(head_dim) + mask) v, in the input dtype.

    The scores are divided by sqrt(head_dim) (a Python float, so by its float32 rounding), not multiplied by
    1/sqrt(head_dim): that is the rounding the committed references were made with (it only matters when the head
    dimension is not a power of 4; FlowAR's cross model, heads of 96, tells the two apart). A boolean mask keeps the
    True entries (the others get -inf), a float mask is added; is_causal masks the upper triangle. Dropout and an
    explicit scale are not supported (no caller here uses them)."""
    assert dropout_p == 0.0 and scale is None
    attn = query @ key.transpose(-2, -1) / math.sqrt(query.size(-1))
    if is_causal:
        L, S = query.size(-2), key.size(-2)
        causal = torch.ones(L, S, dtype=torch.bool).tril(diagonal=0)
        attn = attn.masked_fill(~causal, float('-inf'))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            attn = attn.masked_fill(~attn_mask, float('-inf'))
        else:
            attn = attn + attn_mask
    return attn.softmax(dim=-1) @ value


@contextlib.contextmanager
def no_op_context(*args, **kwargs):
    """Stand-in for the attention-backend selectors (``sdp_kernel``, ``sdpa_kernel``): the stand-in attention
    above is the math backend already, so there is nothing to select."""
    yield


# ---------------------------------------------------------------------------------------------------- safetensors

_DTYPES = {torch.float32: ('F32', '<f4'), torch.float64: ('F64', '<f8'), torch.int64: ('I64', '<i8'),
           torch.int32: ('I32', '<i4'), torch.float16: ('F16', '<f2')}
_NP = {v[0]: v[1] for v in _DTYPES.values()}


def safetensors_bytes(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        code, np_dtype = _DTYPES[t.dtype]
        raw = t.numpy().astype(np_dtype, copy=False).tobytes()
        header[name] = {'dtype': code, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


def read_safetensors(path):
    """Returns ({name: numpy array}, metadata dict) of a safetensors file."""
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    out = {}
    for name, h in header.items():
        a, b = h['data_offsets']
        out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=_NP[h['dtype']]).reshape(h['shape'])
    return out, meta


def compare_safetensors(new_path, old_path):
    """Prints a tensor-by-tensor comparison; returns True when every tensor and the metadata are bit-identical."""
    new, new_meta = read_safetensors(new_path)
    old, old_meta = read_safetensors(old_path)
    ok = True
    for name in old:
        if name not in new:
            print(f'  {name}: MISSING from the new file')
            ok = False
            continue
        a, b = new[name], old[name]
        if a.dtype != b.dtype or a.shape != b.shape:
            print(f'  {name}: {a.dtype}{list(a.shape)} vs committed {b.dtype}{list(b.shape)}')
            ok = False
        elif a.tobytes() == b.tobytes():
            print(f'  {name}: identical')
        else:
            diff = (a != b).sum()
            if a.dtype.kind == 'f':
                err = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
                print(f'  {name}: DIFFERS in {diff} of {a.size} values, max abs diff {err:.3g}')
            else:
                print(f'  {name}: DIFFERS in {diff} of {a.size} values')
            ok = False
    for name in new:
        if name not in old:
            print(f'  {name}: not in the committed file')
            ok = False
    if new_meta != old_meta:
        for k in sorted(set(new_meta) | set(old_meta)):
            if new_meta.get(k) != old_meta.get(k):
                print(f'  __metadata__[{k}]: {new_meta.get(k)!r} vs committed {old_meta.get(k)!r}')
        ok = False
    with open(new_path, 'rb') as f1, open(old_path, 'rb') as f2:
        same_bytes = f1.read() == f2.read()
    print(f'  whole file: {"byte-identical" if same_bytes else "bytes differ"}')
    return ok and same_bytes


# ---------------------------------------------------------------------------------------------------- command line

def parser(doc, default_out):
    p = argparse.ArgumentParser(description=doc.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--repo', required=True, help='checkout of the official repository (outside this repository)')
    p.add_argument('--out', default=default_out, help=f'file to write (default: {default_out})')
    p.add_argument('--check', action='store_true',
                   help='do not write --out: compute into a temporary file and compare it with --out bit for bit')
    p.add_argument('--any-commit', action='store_true', help='run even if the imported files differ from the pin')
    return p


def finish(args, content, compare):
    """Writes `content` (bytes) to args.out, or with --check compares it with args.out using `compare`."""
    if not args.check:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, 'wb') as f:
            f.write(content)
        print(f'wrote {args.out}')
        return True
    # the temporary file has the committed file's name (torch.save names its zip entries after the file)
    with tempfile.TemporaryDirectory() as d:
        tmp = os.path.join(d, os.path.basename(args.out))
        with open(tmp, 'wb') as f:
            f.write(content)
        print(f'comparing with {args.out}:')
        ok = compare(tmp, args.out)
    print('REPRODUCED' if ok else 'NOT REPRODUCED')
    return ok


def testdata(*parts):
    return os.path.join(TESTDATA, *parts)
