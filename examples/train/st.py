"""A small safetensors writer/reader (JSON header + raw little-endian data), so no pickle ships."""
import json
import struct

import numpy as np
import torch

_DT = {torch.float32: ('F32', np.float32), torch.int64: ('I64', np.int64), torch.float16: ('F16', np.float16),
       torch.int32: ('I32', np.int32), torch.uint8: ('U8', np.uint8),
       torch.float64: ('F64', np.float64), torch.int16: ('I16', np.int16)}
_NP = {'F32': np.float32, 'I64': np.int64, 'F16': np.float16, 'I32': np.int32, 'U8': np.uint8, 'F64': np.float64,
       'I16': np.int16}


def save(tensors, path, metadata=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        code, npt = _DT[t.dtype]
        b = t.numpy().astype(np.dtype(npt).newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': code, 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, d in header.items():
        if name == '__metadata__':
            continue
        a, b = d['data_offsets']
        arr = np.frombuffer(data[a:b], dtype=np.dtype(_NP[d['dtype']]).newbyteorder('<')).reshape(d['shape'])
        out[name] = torch.from_numpy(arr.astype(_NP[d['dtype']]))
    return out
