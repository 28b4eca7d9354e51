"""default_collate and default_convert (torch.utils.data._utils.collate): the same dispatch on
sample types, giving the same structure and dtypes as torch.

``collate(batch, collate_fn_map=...)`` is the extensible form, as in torch: ``collate_fn_map``
maps a type (or tuple of types) to ``fn(batch, *, collate_fn_map)``; an exact type match wins,
then the first ``isinstance`` match in the map's order.
"""
import collections.abc as cabc
import copy
import re

import numpy as np

from ... import dtypes as _dt
from ...tensor import Tensor, tensor, from_numpy
from ...tensor.movement import stack
from ...dtypes import float64

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map", "collate_tensor_fn",
           "collate_numpy_array_fn", "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn",
           "collate_str_fn"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
                                  "dicts or lists; found {}")


def _array_to_tensor(a):
    """torch.as_tensor of an ndarray: a tensor sharing its memory (TypeError for dtypes chainrule lacks)."""
    return from_numpy(a)


def default_convert(data):
    """One unbatched sample as tensors: NumPy arrays (but not string/object ones) and NumPy scalars
    become tensors, mappings/namedtuples/sequences are converted element by element (a plain tuple
    gives a list, as in torch), anything else is returned unchanged."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if isinstance(data, np.ndarray):
            if np_str_obj_array_pattern.search(data.dtype.str) is not None:
                return data
            return _array_to_tensor(data)
        return _array_to_tensor(np.asarray(data))
    if isinstance(data, cabc.Mapping):
        try:
            if isinstance(data, cabc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, cabc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, cabc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples into a batch (see ``default_collate``), dispatching through
    ``collate_fn_map`` first and then on mappings, namedtuples and sequences."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, cabc.Mapping):
        try:
            if isinstance(elem, cabc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, cabc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))  # tuples, as in torch: a field of strings stays a tuple
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, cabc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([_array_to_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _scalar_dtype(x):
    """The dtype torch infers for one element of a list of scalars."""
    if isinstance(x, np.generic):
        return _dt.from_numpy(x.dtype)
    if isinstance(x, (bool, np.bool_)):
        return _dt.bool_
    if isinstance(x, int):
        return _dt.int64
    if isinstance(x, float):
        return _dt.get_default_dtype()
    return None


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """torch.as_tensor(batch): NumPy scalars keep their dtypes (promoted as torch promotes)."""
    kinds = [_scalar_dtype(x) for x in batch]
    if any(k is None for k in kinds):
        return tensor(batch)
    result = kinds[0]
    for k in kinds[1:]:
        result = _dt.promote(result, k)
    return from_numpy(np.array(batch).astype(result.np, copy=False))


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch, as torch does: tensors stacked; NumPy arrays turned
    into tensors and stacked; NumPy scalars into a tensor of their dtype; Python floats into a
    float64 tensor, ints into int64 (bools into bool); strings and bytes kept as a list; mappings,
    namedtuples and sequences collated field by field (a tuple or list of fields gives a list)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
