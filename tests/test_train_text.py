"""``chainrule train --data text``: the character language models end to end on a tiny text
(training lowers the validation loss, --resume continues identically, bad arguments), and the
corpus, window and sampling helpers."""
import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.cli import text as lm
from chainrule.models import CharRNN, CharTransformer


@pytest.fixture
def tiny_text(tmp_path):
    rng = np.random.default_rng(0)
    words = ["def ", "return ", "self", "(x)", ":\n", "    ", "import ", "class "]
    path = tmp_path / "tiny.txt"
    path.write_text("".join(words[i] for i in rng.integers(0, len(words), 3000)))
    return path


def _run(tmp_path, tiny_text, *extra, out="run"):
    args = ["train", "--data", "text", "--text", str(tiny_text), "--epochs", "2", "--steps", "6", "--context", "16",
            "--batch-size", "8", "--no-progress", "--out", str(tmp_path / out)] + list(extra)
    return main(args)


@pytest.mark.parametrize("model", ["gru", "lstm", "transformer"])
def test_language_model_trains_and_samples(tmp_path, tiny_text, capsys, model):
    assert _run(tmp_path, tiny_text, "--model", model, "--lr", "1e-2") == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    bits = [e["valid_bits_per_char"] for e in metrics["epochs"]]
    vocab = len(set(tiny_text.read_text()))
    assert len(bits) == 2 and bits[-1] < math.log2(vocab) and bits[-1] < bits[0]
    assert metrics["config"]["model"] == model and metrics["config"]["context"] == 16
    assert "sample (temperature 0.8, top-k 10):" in out and (tmp_path / "run" / "metrics.png").exists()
    sample = out.split("top-k 10):\n", 1)[1]
    assert len(sample) > 300 and set(sample) <= set(tiny_text.read_text()) | {"\n"}


def test_resume_continues_identically(tmp_path, tiny_text, monkeypatch):
    assert _run(tmp_path, tiny_text, "--model", "gru", out="once") == 0
    evaluations = []

    def stop_in_epoch_2(*args):   # Ctrl-C during the second epoch's validation
        evaluations.append(1)
        if len(evaluations) == 2:
            raise KeyboardInterrupt
        return real(*args)
    real = lm.validation_bits
    monkeypatch.setattr(lm, "validation_bits", stop_in_epoch_2)
    assert _run(tmp_path, tiny_text, "--model", "gru", out="twice") == 130
    monkeypatch.setattr(lm, "validation_bits", real)
    assert cr.load(str(tmp_path / "twice" / "checkpoint.safetensors"))["epoch"] == 1
    assert _run(tmp_path, tiny_text, "--resume", out="twice") == 0
    a = cr.load(str(tmp_path / "once" / "checkpoint.safetensors"))["model"]
    b = cr.load(str(tmp_path / "twice" / "checkpoint.safetensors"))["model"]
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
    assert _run(tmp_path, tiny_text, "--resume", "--context", "8", out="twice") == 2


def test_bad_arguments(tmp_path, tiny_text, capsys):
    assert main(["train", "--data", "text", "--model", "mlp", "--out", str(tmp_path / "x")]) == 2
    assert main(["train", "--model", "lstm", "--out", str(tmp_path / "x")]) == 2
    assert main(["train", "--steps", "3", "--out", str(tmp_path / "x")]) == 2
    assert main(["train", "--data", "text", "--text", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "x")]) == 2
    short = tmp_path / "short.txt"
    short.write_text("abc")
    assert main(["train", "--data", "text", "--text", str(short), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "does not fit" in err and "for --data text" in err and "missing.txt" in err and "at least" in err


def test_corpus_windows_and_stdlib_text():
    text = lm.load_text(None)
    assert len(text) == lm.STDLIB_CHARS and "def " in text and "import " in text
    corpus = lm.Corpus(text[:50_000], 0.1, seed=3)
    assert corpus.decode(corpus.encode("def f(x):")) == "def f(x):"
    assert 0.03 < len(corpus.valid) / 50_000 < 0.2 and len(corpus.train) + len(corpus.valid) == 50_000
    x, y = lm.windows(corpus.train, np.array([0, 5]), 10)
    assert x.shape == y.shape == (2, 10) and (x[:, 1:] == y[:, :-1]).all()
    again = lm.Corpus(text[:50_000], 0.1, seed=3)
    assert (again.valid == corpus.valid).all()


def test_models_shapes_and_context_limit():
    t = CharTransformer(20, context=8, d_model=16, heads=2, layers=1)
    logits, state = t(cr.randint(0, 20, (3, 8)))
    assert tuple(logits.shape) == (3, 8, 20) and state is None
    with pytest.raises(ValueError, match="context"):
        t(cr.randint(0, 20, (1, 9)))
    r = CharRNN(20, "lstm", embed=4, hidden=8, layers=1)
    logits, (h, c) = r(cr.randint(0, 20, (2, 5)))
    assert tuple(logits.shape) == (2, 5, 20) and tuple(h.shape) == (1, 2, 8)
