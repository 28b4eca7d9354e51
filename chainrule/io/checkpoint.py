"""``cr.save`` / ``cr.load``: tensors and nested state dicts in a safetensors file.

Layout: every tensor is stored under a flattened key (``state.0.exp_avg``; a module state dict's
own dotted keys), and the object around them — dicts (any key order, int keys), lists, tuples,
None, bools, ints, floats (nan/inf too), strings — is JSON in the header metadata under
``"chainrule"``. A flat ``{name: tensor}`` dict is therefore a plain safetensors file that
``safetensors.torch.load_file`` reads, and a plain file written by PyTorch loads as such a dict.

Loading reads and checks the safetensors header (JSON) before anything else, then reads only the
tensor bytes it declares: no pickle, no code runs.
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
# safetensors dtype codes that chainrule has, and their (little-endian) NumPy dtypes
_NP_DTYPES = {"BOOL": np.dtype("?"), "U8": np.dtype("u1"), "I8": np.dtype("i1"), "I16": np.dtype("<i2"),
              "I32": np.dtype("<i4"), "I64": np.dtype("<i8"), "F16": np.dtype("<f2"), "F32": np.dtype("<f4"),
              "F64": np.dtype("<f8")}
_DTYPES = set(_NP_DTYPES)
_MAX_HEADER = 100_000_000   # bytes of JSON header; the safetensors library's own limit
_MAX_DIM = 2 ** 63 - 1


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


def load(f, map_location=None, *, weights_only=True, mmap=None):
    """Load what ``save`` wrote, or a plain safetensors file (as a ``{name: tensor}`` dict).

    ``map_location``: None or ``'cpu'`` (tensors on the CPU), ``'cuda'``/``'cuda:N'``/a device.
    ``weights_only`` is accepted for torch compatibility: chainrule never unpickles anything; ``mmap`` too
    (the tensors are read into memory either way, with the same values).

    The header is read and checked first — its length against the file size and a 100 MB cap,
    then every entry (dtype, shape, offsets inside the data section, size = prod(shape) *
    itemsize, entries tiling the data section without overlaps or gaps, as the safetensors
    format requires) — and only then are the declared tensor bytes read, each straight into
    its own array: a file that is not a valid safetensors file is refused without reading it.
    """
    name = getattr(f, "name", "<file object>") if hasattr(f, "read") else os.fspath(f)
    dev = _target_device(map_location)
    if hasattr(f, "read"):
        header, arrays = _read_safetensors(f, str(name))
    else:
        with open(name, "rb") as fh:
            header, arrays = _read_safetensors(fh, name)
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
        node = {"tensor": _put(tensors, path or "tensor", to_device(obj._data, Device.CPU))}
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


def _read_safetensors(fh, name):
    """(header dict, {key: array}) from the binary file object ``fh`` at its current position.

    Reads the 8-byte header length, checks it, reads and checks the header, and only then reads
    the tensor bytes the header declares (into one array each). Anything wrong: RuntimeError
    naming the file and the problem."""
    size = _remaining_size(fh)            # None for a stream that cannot seek
    head = fh.read(8) or b""
    n = int.from_bytes(head, "little") if len(head) == 8 else 0
    limit = _MAX_HEADER if size is None else min(_MAX_HEADER, size - 8)
    first = fh.read(1) if len(head) == 8 and 2 <= n <= limit else b""
    if first != b"{":
        raise RuntimeError(_not_safetensors(head, name, n, size))
    raw = first + _read_bytes(fh, n - 1)
    if len(raw) != n:
        raise RuntimeError(f"cr.load: '{name}' is not a safetensors file: header size {n} but the stream "
                           f"ended after {len(raw)} header bytes (truncated)")
    header = _parse_header(raw, name)
    entries = _check_entries(header, name, None if size is None else size - 8 - n)
    arrays = {}
    for key, dtype, shape, begin, end in entries:   # in file order: the data section is read sequentially
        try:
            arr = np.empty(shape, dtype=dtype)
        except (ValueError, OverflowError) as e:
            raise RuntimeError(f"cr.load: '{name}': tensor '{key}' has shape {list(shape)} that NumPy cannot "
                               f"allocate: {e}") from None
        got = _read_into(fh, memoryview(arr.reshape(-1).view(np.uint8))) if end > begin else 0
        if got != end - begin:
            raise RuntimeError(f"cr.load: '{name}': the data of tensor '{key}' (data_offsets [{begin}, {end}]) "
                               f"ends after {got} of {end - begin} bytes (the file is truncated)")
        arrays[key] = arr
    if size is None and fh.read(1):
        raise RuntimeError(f"cr.load: '{name}' is not a valid safetensors file: bytes follow the data section "
                           "that no tensor covers")
    return header, arrays


def _remaining_size(fh):
    try:
        if not fh.seekable():
            return None
        pos = fh.tell()
        end = fh.seek(0, os.SEEK_END)
        fh.seek(pos)
        return max(end - pos, 0)
    except (AttributeError, OSError, ValueError):
        return None


def _read_bytes(fh, n):
    """Up to ``n`` bytes (fewer only at the end of the stream)."""
    chunks, got = [], 0
    while got < n:
        b = fh.read(n - got)
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def _read_into(fh, buf):
    """Fill the byte memoryview ``buf`` from ``fh``; the number of bytes read (less only at the end)."""
    readinto = getattr(fh, "readinto", None)
    got, total = 0, len(buf)
    while got < total:
        if readinto is not None:
            k = readinto(buf[got:]) or 0
        else:
            b = fh.read(min(total - got, 1 << 26)) or b""
            k = len(b)
            buf[got:got + k] = b
        if not k:
            break
        got += k
    return got


def _parse_header(raw, name):
    def no_duplicates(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise ValueError(f"the key {k!r} appears twice")
            d[k] = v
        return d
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (ValueError, UnicodeDecodeError) as e:
        raise RuntimeError(f"cr.load: '{name}' is not a safetensors file (bad header: {e})") from None
    meta = header.get("__metadata__")
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise RuntimeError(f"cr.load: '{name}' is not a valid safetensors file: __metadata__ must be a JSON "
                           f"object of strings, got {_short(meta)}")
    return header


def _short(v, n=80):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "..."


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _check_entries(header, name, data_len):
    """[(key, numpy dtype, shape, begin, end)] in data order, after checking each entry and that the
    entries tile the data section (``data_len`` bytes; None: unknown, a stream) exactly."""
    entries = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        bad = f"cr.load: '{name}': tensor '{key}'"
        if not isinstance(info, dict):
            raise RuntimeError(f"{bad} has header entry {_short(info)}, not an object with dtype, shape and "
                               "data_offsets")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in _DTYPES:
            raise RuntimeError(f"{bad} has dtype {_short(dtype)}, which chainrule does not support (supported: "
                               f"{', '.join(sorted(_DTYPES))})")
        if not (isinstance(shape, list) and all(_is_int(d) and 0 <= d <= _MAX_DIM for d in shape)):
            raise RuntimeError(f"{bad} has shape {_short(shape)}: expected a list of non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) and o >= 0 for o in offsets)):
            raise RuntimeError(f"{bad} has data_offsets {_short(offsets)}: expected [begin, end], two "
                               "non-negative integers")
        begin, end = offsets
        if begin > end:
            raise RuntimeError(f"{bad} has data_offsets [{begin}, {end}]: begin is after end")
        if data_len is not None and end > data_len:
            raise RuntimeError(f"{bad} has data_offsets [{begin}, {end}] past the end of the data section "
                               f"({data_len} bytes): the file is truncated or corrupt")
        np_dtype = _NP_DTYPES[dtype]
        numel = 1
        for d in shape:
            numel *= d
        if end - begin != numel * np_dtype.itemsize:
            raise RuntimeError(f"{bad} has shape {shape} and dtype {dtype}, which is {numel * np_dtype.itemsize} "
                               f"bytes, but data_offsets [{begin}, {end}] hold {end - begin} bytes")
        entries.append((key, np_dtype, tuple(shape), begin, end))
    entries.sort(key=lambda e: (e[3], e[4]))
    pos, prev = 0, None
    for key, _, _, begin, end in entries:
        if begin < pos:
            raise RuntimeError(f"cr.load: '{name}': tensors '{prev}' and '{key}' overlap (data_offsets of "
                               f"'{key}' begin at {begin}, before '{prev}' ends at {pos})")
        if begin > pos:
            raise RuntimeError(f"cr.load: '{name}' is not a valid safetensors file: data bytes [{pos}, {begin}) "
                               f"belong to no tensor (before '{key}')")
        pos, prev = end, key
    if data_len is not None and pos != data_len:
        raise RuntimeError(f"cr.load: '{name}' is not a valid safetensors file: the tensors cover {pos} bytes "
                           f"but the data section has {data_len} (extra bytes at the end)")
    return entries


def _not_safetensors(head, name, n, size):
    """Why a file starting with ``head`` (``size`` bytes, None if unknown; header size ``n``) is not a
    safetensors file, recognising the formats people confuse with it. (Only asked after the
    safetensors check failed: a valid header size may start with 0x80.)"""
    for magic, kind in _FOREIGN:
        if head.startswith(magic):
            return (f"cr.load: '{name}' is not a safetensors file: it looks like {kind}. chainrule only loads "
                    "safetensors files and never unpickles (unpickling can run code).")
    total = size if size is not None else len(head)
    if len(head) < 8 or (size is not None and size < 9):
        return f"cr.load: '{name}' is not a safetensors file: only {total} bytes (empty or truncated)"
    if size is not None and n > size - 8:
        return (f"cr.load: '{name}' is not a safetensors file (header size {n} in a file of {size} bytes: "
                "truncated, corrupt or another format)")
    if n > _MAX_HEADER:
        return (f"cr.load: '{name}' is not a safetensors file (header size {n} exceeds the {_MAX_HEADER}-byte "
                "limit: corrupt or another format)")
    if n < 2:
        return f"cr.load: '{name}' is not a safetensors file (header size {n}: too small for a JSON header)"
    return (f"cr.load: '{name}' is not a safetensors file (header size {n}"
            + (f" in a file of {size} bytes" if size is not None else "")
            + ", no JSON header: truncated, corrupt or another format)")


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
