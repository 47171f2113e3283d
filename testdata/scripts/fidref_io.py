"""Small helpers shared by the make_fid_* and make_torch_ops scripts (no third-party packages beyond numpy).

- write_safetensors: the layout the committed files use (json.dumps header with its default separators, keys in
  insertion order, padded with spaces to a multiple of 8, then the raw little-endian tensors back to back);
- read_safetensors: the inverse, for the comparison;
- compare: tensor by tensor (dtype, shape, bits), then byte by byte, against a committed file;
- require_blobs: checks that the official files imported from a checkout are the pinned commit's (git blob ids,
  so it works for `git archive` extracts as well as work trees).
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

_DTYPES = {
    np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
    np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.uint8): "U8",
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs, offset = [], 0
    for name, array in tensors.items():
        a = np.ascontiguousarray(array)
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        data = a.tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_and_check(path, tensors, metadata, committed):
    """Writes the file; with `committed` (a script's --compare), compares it with that file and exits 0 or 1."""
    write_safetensors(path, tensors, metadata)
    print("wrote", path)
    if committed:
        ok = compare(path, committed)
        print("all tensors identical" if ok else "SOME TENSORS DIFFER")
        raise SystemExit(0 if ok else 1)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + start:8 + n + end], dtype=_NAMES[info["dtype"]]).reshape(info["shape"])
    return header.get("__metadata__"), out


def compare(made, committed):
    """Prints one line per tensor; returns True when every tensor has the committed dtype, shape and bits."""
    _, mine = read_safetensors(made)
    _, ref = read_safetensors(committed)
    ok = list(mine) == list(ref)
    if not ok:
        print("key lists differ: made %s, committed %s" % (sorted(set(mine) ^ set(ref)), ""))
    for name in ref:
        if name not in mine:
            print("%-28s missing" % name)
            ok = False
            continue
        a, b = mine[name], ref[name]
        if a.dtype != b.dtype or a.shape != b.shape:
            print("%-28s dtype/shape %s %s vs committed %s %s" % (name, a.dtype, a.shape, b.dtype, b.shape))
            ok = False
            continue
        same = a.tobytes() == b.tobytes()
        diff = 0.0 if same else float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
        print("%-28s %-10s %s" % (name, "identical" if same else "DIFFERS", "" if same else "max abs diff %.3g" % diff))
        ok &= same
    with open(made, "rb") as f1, open(committed, "rb") as f2:
        print("whole file: %s" % ("byte-identical" if f1.read() == f2.read() else "bytes differ"))
    return ok


def git_blob_id(path):
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def require_blobs(root, pinned, commit):
    """pinned: {relative path: git blob id at `commit`}. Exits when a file is missing or differs."""
    for rel, blob in pinned.items():
        p = os.path.join(root, rel)
        if not os.path.isfile(p):
            sys.exit("%s: no %s (expected a checkout of commit %s)" % (root, rel, commit))
        got = git_blob_id(p)
        if got != blob:
            sys.exit("%s: %s is blob %s, not %s from the pinned commit %s" % (root, rel, got, blob, commit))
