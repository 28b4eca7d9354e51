"""``SummaryWriter``: torch.utils.tensorboard's writer, over the ``tensorboard`` package's event-file
writer (the same one torch uses). Values may be chainrule tensors, NumPy arrays or numbers."""
import io
import os
import socket
import time
from datetime import datetime

import numpy as np

_MISSING = ("chainrule.utils.tensorboard needs the 'tensorboard' package: "
            "pip install 'chainrule[tensorboard]' (or pip install tensorboard)")


def _tb():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return event_pb2, summary_pb2, EventFileWriter


def _array(value):
    """A chainrule Tensor (CPU or CUDA), NumPy array or number as a NumPy array."""
    if hasattr(value, "_data"):
        value = value.detach()._data if hasattr(value, "detach") else value._data
    if hasattr(value, "get"):  # CuPy
        value = value.get()
    return np.asarray(value)


def _scalar(value):
    a = _array(value)
    if a.size != 1:
        raise ValueError(f"add_scalar: the value must hold one element, got shape {tuple(a.shape)}")
    return float(a.reshape(()))


class SummaryWriter:
    """Writes TensorBoard event files into ``log_dir`` (default ``runs/DATE_HOST<comment>``)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        event_pb2, summary_pb2, EventFileWriter = _tb()
        self._event_pb2, self._summary_pb2, self._EventFileWriter = event_pb2, summary_pb2, EventFileWriter
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self._options = dict(max_queue_size=max_queue, flush_secs=flush_secs, filename_suffix=filename_suffix)
        self._writer = EventFileWriter(self.log_dir, **self._options)
        self._scalar_writers = {}  # add_scalars: one sub-run per tag, as torch does
        self._closed = False

    def get_logdir(self):
        return self.log_dir

    # -- events -------------------------------------------------------------------------------
    def _event(self, summary_value, global_step, walltime, writer=None):
        self._check_open()
        event = self._event_pb2.Event(wall_time=time.time() if walltime is None else float(walltime),
                                      summary=self._summary_pb2.Summary(value=[summary_value]))
        if global_step is not None:
            event.step = int(global_step)
        (writer or self._writer).add_event(event)

    def _check_open(self):
        if self._closed:
            raise RuntimeError("SummaryWriter: the writer is closed")

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """One number under ``tag`` at ``global_step``."""
        value = self._summary_pb2.Summary.Value(tag=str(tag), simple_value=_scalar(scalar_value))
        self._event(value, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several numbers on one chart: each goes to the sub-run ``log_dir/main_tag_tag``."""
        for tag, v in tag_scalar_dict.items():
            name = f"{main_tag.replace('/', '_')}_{tag}"
            writer = self._scalar_writers.get(name)
            if writer is None:
                self._check_open()
                writer = self._scalar_writers[name] = self._EventFileWriter(os.path.join(self.log_dir, name),
                                                                            **self._options)
            value = self._summary_pb2.Summary.Value(tag=str(main_tag), simple_value=_scalar(v))
            self._event(value, global_step, walltime, writer)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """A histogram of ``values``; ``bins`` as numpy.histogram's (an int, edges or a rule name;
        'tensorflow' means 30 equal bins here)."""
        a = _array(values).astype(np.float64).ravel()
        if a.size == 0:
            raise ValueError("add_histogram: the input has no values")
        if not np.all(np.isfinite(a)):
            raise ValueError("add_histogram: the input has NaN or infinite values")
        counts, edges = np.histogram(a, bins=30 if bins == "tensorflow" else bins)
        if max_bins is not None and len(counts) > max_bins:
            counts, edges = np.histogram(a, bins=max_bins)
        histo = self._summary_pb2.HistogramProto(min=float(a.min()), max=float(a.max()), num=float(a.size),
                                                 sum=float(a.sum()), sum_squares=float(a @ a),
                                                 bucket_limit=edges[1:].tolist(), bucket=counts.astype(float).tolist())
        self._event(self._summary_pb2.Summary.Value(tag=str(tag), histo=histo), global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """An image: floats in [0, 1] or uint8 in [0, 255], laid out as ``dataformats`` (CHW, HWC, HW)."""
        img = _to_hwc(_array(img_tensor), dataformats)
        if img.dtype != np.uint8:
            img = (np.clip(img.astype(np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)
        h, w, c = img.shape
        image = self._summary_pb2.Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=_png(img))
        self._event(self._summary_pb2.Summary.Value(tag=str(tag), image=image), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The model's computation graph, traced by running ``model(input_to_model)`` once: one node
        per recorded op (named by module path), inputs and parameters as placeholders."""
        if input_to_model is None:
            raise NotImplementedError("add_graph: chainrule traces by running the model; pass input_to_model")
        from ...viz.graph import Graph, record_modules, op_name
        args = input_to_model if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
        with record_modules(model) as mods:
            out = model(*args)
        if isinstance(out, (tuple, list)) or not hasattr(out, "_node") or out._node is None:
            raise NotImplementedError("add_graph: only models returning one tensor that requires grad can be traced")
        g = Graph(out, modules=mods)
        self._check_open()
        self._writer.add_event(self._event_pb2.Event(wall_time=time.time(), graph_def=_graph_def(g, mods, op_name)))

    # -- lifetime -----------------------------------------------------------------------------
    def flush(self):
        if self._closed:
            return
        self._writer.flush()
        for w in self._scalar_writers.values():
            w.flush()

    def close(self):
        if self._closed:
            return
        self._writer.close()
        for w in self._scalar_writers.values():
            w.close()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _to_hwc(img, dataformats):
    fmt = dataformats.upper()
    if sorted(fmt) not in (sorted("CHW"), sorted("HW")) or len(fmt) != img.ndim:
        raise ValueError(f"add_image: dataformats {dataformats!r} does not fit an image of shape {tuple(img.shape)} "
                         "(use CHW, HWC or HW)")
    if fmt == "HW" or fmt == "WH":
        img = img[None] if fmt == "HW" else img.T[None]
        fmt = "CHW"
    img = np.transpose(img, [fmt.index(k) for k in "HWC"])
    if img.shape[2] not in (1, 3, 4):
        raise ValueError(f"add_image: an image needs 1, 3 or 4 channels, got {img.shape[2]}")
    return img


def _png(img):
    from PIL import Image  # matplotlib depends on Pillow
    buf = io.BytesIO()
    Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img).save(buf, format="PNG")
    return buf.getvalue()


def _graph_def(g, mods, op_name):
    from tensorboard.compat.proto import graph_pb2, node_def_pb2, versions_pb2
    name_of, nodes = {}, []
    for leaf in g.leaves:
        scope = mods.of_param.get(id(leaf))
        name = f"{scope.replace('.', '/')}/{g.names[id(leaf)]}" if scope else g.names[id(leaf)]
        name_of[id(leaf)] = name
        nodes.append(node_def_pb2.NodeDef(name=name, op="Parameter" if scope else "Input"))
    for i, node in enumerate(g.order):
        scope = mods.of_node.get(node)
        name = f"{scope.replace('.', '/')}/{op_name(node)}_{i}" if scope else f"{op_name(node)}_{i}"
        name_of[id(node)] = name
        nodes.append(node_def_pb2.NodeDef(name=name, op=op_name(node),
                                          input=[name_of[id(p)] for p in node.parents if p is not None]))
    return graph_pb2.GraphDef(node=nodes, versions=versions_pb2.VersionDef(producer=22)).SerializeToString()
