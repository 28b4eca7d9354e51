"""``cr.save`` / ``cr.load``: tensors and nested state dicts in a safetensors file.

Layout: every tensor is stored under a flattened key (``state.0.exp_avg``; a module state dict's
own dotted keys), and the object around them — dicts (any key order, int keys), lists, tuples,
None, bools, ints, floats (nan/inf too), strings — is JSON in the header metadata under
``"chainrule"``. A flat ``{name: tensor}`` dict is therefore a plain safetensors file that
``safetensors.torch.load_file`` reads, and a plain file written by PyTorch loads as such a dict.

Loading parses only the safetensors header (JSON) and raw tensor bytes: no pickle, no code runs.
Writes go to a temporary file in the same directory, fsync'ed, then ``os.replace``d over the
target, so a failed save never leaves a half-written checkpoint in place of a good one.
"""
import json
import os
import tempfile

import numpy as np
import safetensors.numpy

from ..tensor import Tensor
from ..backend import Device, parse_device, to_device, cuda_support

_META_KEY = "chainrule"
_VERSION = 1
# safetensors dtype codes that chainrule has
_DTYPES = {"BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "F32", "F64"}


def save(obj, f):
    """Save ``obj`` (a tensor, or dicts/lists/tuples of tensors and plain values) to path ``f``
    (or a writable binary file object) as a safetensors file."""
    tensors = {}
    structure = _encode(obj, "", tensors)
    metadata = {"format": "pt", _META_KEY: json.dumps({"version": _VERSION, "object": structure},
                                                       allow_nan=False)}
    data = safetensors.numpy.save(tensors, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
    else:
        _atomic_write(os.fspath(f), data)


def load(f, map_location=None, *, weights_only=True):
    """Load what ``save`` wrote, or a plain safetensors file (as a ``{name: tensor}`` dict).

    ``map_location``: None or ``'cpu'`` (tensors on the CPU), ``'cuda'``/``'cuda:N'``/a device.
    ``weights_only`` is accepted for torch compatibility: chainrule never unpickles anything.
    """
    name = getattr(f, "name", "<file object>") if hasattr(f, "read") else os.fspath(f)
    dev = _target_device(map_location)
    if hasattr(f, "read"):
        data = f.read()
    else:
        with open(name, "rb") as fh:
            data = fh.read()
    header = _read_header(data, name)
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as e:  # safetensors reports truncated/overlapping data as SafetensorError
        raise RuntimeError(f"cr.load: '{name}' is not a valid safetensors file: {e}") from None
    meta = header.get("__metadata__") or {}
    if _META_KEY not in meta:  # a plain safetensors file: {name: tensor} in file order
        return {k: _tensor(arrays[k], dev) for k in header if k != "__metadata__"}
    try:
        doc = json.loads(meta[_META_KEY])
        if doc.get("version") != _VERSION:
            raise ValueError(f"unsupported chainrule checkpoint version {doc.get('version')!r}")
        return _decode(doc["object"], arrays, dev)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise RuntimeError(f"cr.load: '{name}' has a corrupt chainrule structure: {e}") from None


# ---- object <-> (JSON structure, tensors) -------------------------------------------------------
def _encode(obj, path, tensors):
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else {"float": repr(obj)}
    if isinstance(obj, Tensor):
        node = {"tensor": _put(tensors, path or "tensor", to_device(obj.data, Device.CPU))}
        if obj.requires_grad:
            node["requires_grad"] = True
        return node
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"cr.save: cannot save a numpy array of dtype {obj.dtype} at '{path}'")
        return {"ndarray": _put(tensors, path or "array", obj)}
    if isinstance(obj, np.generic):
        return _encode(obj.item(), path, tensors)
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (bool, int, float, str, tuple))):
                raise TypeError(f"cr.save: dict keys must be str, int, float, bool, None or tuples; "
                                f"got {type(k).__name__} at '{path}'")
            items.append([_encode(k, path, {}), _encode(v, f"{path}.{k}" if path else str(k), tensors)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        enc = [_encode(v, f"{path}.{i}" if path else str(i), tensors) for i, v in enumerate(obj)]
        return {"tuple": enc} if isinstance(obj, tuple) else enc
    raise TypeError(f"cr.save: cannot save an object of type {type(obj).__name__} at '{path or '<root>'}': "
                    "only tensors, numpy arrays, dicts, lists, tuples, str, int, float, bool and None")


def _put(tensors, key, array):
    """Store ``array`` under ``key`` (made unique) and return the key."""
    unique, n = key, 0
    while unique in tensors or unique == "__metadata__":
        n += 1
        unique = f"{key}#{n}"
    tensors[unique] = array if array.flags.c_contiguous else array.copy(order="C")  # keeps 0-d shapes
    return unique


def _decode(node, arrays, dev):
    if isinstance(node, list):
        return [_decode(v, arrays, dev) for v in node]
    if not isinstance(node, dict):
        return node
    if "tensor" in node:
        t = _tensor(arrays[node["tensor"]], dev)
        return t.requires_grad_() if node.get("requires_grad") else t
    if "ndarray" in node:
        return arrays[node["ndarray"]]
    if "float" in node:
        return float(node["float"])
    if "tuple" in node:
        return tuple(_decode(v, arrays, dev) for v in node["tuple"])
    if "dict" in node:
        return {_hashable(_decode(k, arrays, dev)): _decode(v, arrays, dev) for k, v in node["dict"]}
    raise ValueError(f"unknown node {sorted(node)}")


def _hashable(key):
    if isinstance(key, (list, dict)):
        raise ValueError(f"unhashable dict key {key!r}")
    return key


def _tensor(array, dev):
    return Tensor._make(array if dev is None else to_device(array, dev))


# ---- files -------------------------------------------------------------------------------------
def _target_device(map_location):
    if map_location is None:
        return None
    if not isinstance(map_location, (str, Device)):
        raise TypeError("cr.load: map_location must be None, a device string ('cpu', 'cuda', 'cuda:1') or "
                        f"a chainrule.device, not {type(map_location).__name__}")
    dev = parse_device(map_location)
    if dev.type == "cuda":
        cuda_support.require(dev)
    return None if dev.type == "cpu" else dev


_FOREIGN = [(b"PK\x03\x04", "a zip archive (torch.save's format, or a NumPy .npz)"),
            (b"\x80", "a pickle (torch.save's legacy format, or pickle.dump)"),
            (b"\x93NUMPY", "a NumPy .npy file")]


def _read_header(data, name):
    """The safetensors header as a dict, after checks that name what is wrong with the file."""
    n = int.from_bytes(data[:8], "little") if len(data) >= 8 else 0
    if not (2 <= n <= len(data) - 8 and data[8:9] == b"{"):
        raise RuntimeError(_not_safetensors(data, name, n))
    try:
        header = json.loads(data[8:8 + n])
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (ValueError, UnicodeDecodeError) as e:
        raise RuntimeError(f"cr.load: '{name}' is not a safetensors file (bad header: {e})") from None
    for key, info in header.items():
        if key != "__metadata__" and isinstance(info, dict) and info.get("dtype") not in _DTYPES:
            raise RuntimeError(f"cr.load: '{name}': tensor '{key}' has dtype {info.get('dtype')}, which "
                               "chainrule does not support")
    return header


def _not_safetensors(data, name, n):
    """Why ``data`` is not a safetensors file, recognising the formats people confuse with it.
    (Only asked after the safetensors check failed: a valid header size may start with 0x80.)"""
    for magic, kind in _FOREIGN:
        if data.startswith(magic):
            return (f"cr.load: '{name}' is not a safetensors file: it looks like {kind}. chainrule only loads "
                    "safetensors files and never unpickles (unpickling can run code).")
    if len(data) < 9:
        return f"cr.load: '{name}' is not a safetensors file: only {len(data)} bytes (empty or truncated)"
    return (f"cr.load: '{name}' is not a safetensors file (header size {n} in a file of {len(data)} bytes, "
            "no JSON header: truncated, corrupt or another format)")


def _atomic_write(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.chmod(tmp, _new_file_mode(path))  # mkstemp makes 0600; keep the usual permissions
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _new_file_mode(path):
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
