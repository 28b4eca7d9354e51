"""``chainrule export RUN_DIR``: a classifier trained by ``chainrule train`` as an ONNX file.

Rebuilds the run's model (mlp or cnn) from its ``checkpoint.safetensors`` and settings, writes
``RUN_DIR/model.onnx`` (or ``--out``) with a dynamic batch axis, then runs the file with
onnxruntime on the run's held-out samples and compares with chainrule (float32 rtol 1e-4).

Exit status: 0 exported and matching, 1 onnxruntime disagrees, 2 bad arguments or checkpoint.
"""
import os
import sys

import numpy as np

from . import datasets
from .train import CHECKPOINT, CLASSIFIERS, MLP_KEYS, UsageError, _build_model

RTOL, ATOL = 1e-4, 1e-5


def add_arguments(p):
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by `chainrule train`")
    p.add_argument("--out", default=None, help="ONNX file to write (default: RUN_DIR/model.onnx)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version (default: 17)")
    p.add_argument("--samples", type=int, default=256, help="held-out samples for the onnxruntime check")


def run(args):
    try:
        return _export(args)
    except UsageError as e:
        print(f"chainrule export: error: {e}", file=sys.stderr)
        return 2


def _load_run(run_dir):
    import chainrule as cr
    path = os.path.join(run_dir, CHECKPOINT)
    if not os.path.isfile(path):
        raise UsageError(f"no checkpoint at {path} (pass a directory written by `chainrule train`)")
    try:
        ckpt = cr.load(path)
    except (ValueError, RuntimeError, OSError) as e:
        raise UsageError(f"cannot read {path}: {e}") from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "config" not in ckpt:
        raise UsageError(f"{path} is not a `chainrule train` checkpoint (no model or config)")
    return path, ckpt


def _export(args):
    import chainrule as cr
    path, ckpt = _load_run(args.run_dir)
    config = ckpt["config"]
    kind = config.get("model")
    if kind not in CLASSIFIERS:
        raise UsageError(f"{path}: export handles the classifiers ({', '.join(CLASSIFIERS)}), "
                         f"not --model {kind}")
    try:
        x, y, _ = datasets.load(config["data"], seed=config["seed"])
        _, test_idx = datasets.split(len(x), config["test_fraction"], config["seed"])
    except (datasets.DataError, OSError) as e:
        raise UsageError(f"cannot load the run's data ({config['data']}): {e}") from None
    if kind == "cnn" and x.ndim == 3:
        x = x[:, None]
    model = _build_model({**MLP_KEYS, **config}, x.shape[1:], int(y.max()) + 1)
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, ValueError, KeyError) as e:
        raise UsageError(f"{path} does not fit a {kind} for this data: {e}") from None
    model.eval()
    samples = np.ascontiguousarray(x[test_idx[:max(1, args.samples)]])
    out = args.out or os.path.join(args.run_dir, "model.onnx")
    try:
        proto = cr.onnx.export(model, (cr.from_numpy(samples[:1]),), out, input_names=["input"],
                               output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                               opset_version=args.opset)
    except ImportError as e:
        raise UsageError(str(e)) from None
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(f"exported {kind} from {path} to {out} (opset {args.opset}, {len(proto.graph.node)} nodes, "
          f"input (batch, {', '.join(map(str, samples.shape[1:]))}) float32)")
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime check: skipped (onnxruntime is not installed: pip install 'chainrule[onnx]')")
        return 0
    sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": samples})[0]
    with cr.no_grad():
        want = model(cr.from_numpy(samples)).numpy()
    diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    ok = got.shape == want.shape and np.allclose(got, want, rtol=RTOL, atol=ATOL)
    agree = int((got.argmax(1) == want.argmax(1)).sum()) if got.shape == want.shape else 0
    print(f"onnxruntime check: {len(samples)} held-out samples, max |onnxruntime - chainrule| {diff:.2e}: "
          f"{'match' if ok else 'MISMATCH'} (rtol {RTOL:g}); predictions agree on {agree}/{len(samples)}")
    return 0 if ok else 1
