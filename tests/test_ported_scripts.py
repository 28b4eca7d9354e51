"""Public PyTorch programs, ported by changing only their imports (examples/ported/, each file's
header names its source, commit, license and the data it reads instead of a download), run for a
few steps in a subprocess: each must finish and print finite losses that go down where that is
cheap to see. Then regression tests, against torch, for the small gaps these programs found."""
import inspect
import math
import os
import re
import string
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import chainrule as cr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORTED = os.path.join(ROOT, "examples", "ported")


def run(script, *args, cwd, timeout=60):
    """Run examples/ported/<script> in ``cwd`` and return its stdout (fails with its output)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    p = subprocess.run([sys.executable, os.path.join(PORTED, script), *map(str, args)], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{script} exited {p.returncode}:\n{p.stdout[-1500:]}\n{p.stderr[-3000:]}"
    return p.stdout


def run_until_gap(gap, script, *args, cwd):
    """``run`` for a program known to stop at a gap (``gap``: text of its error). Under
    xfail(strict=True, raises=AssertionError) the test fails if the program stops anywhere else
    (RuntimeError here) and xpasses, so fails, once it runs through: then drop the xfail."""
    try:
        return run(script, *args, cwd=cwd)
    except AssertionError as e:
        if gap not in str(e):
            raise RuntimeError(f"{script} stopped, but not at the known gap {gap!r}:\n{e}") from None
        raise


def numbers(pattern, text):
    found = [float(x) for x in re.findall(pattern, text)]
    assert found, f"no match for {pattern!r} in:\n{text[-1500:]}"
    assert all(math.isfinite(x) for x in found), found
    return found


def stdlib_text(n=20000):
    """Text that ships with every Python install: the standard library's textwrap source."""
    return inspect.getsource(textwrap)[:n]


# ---- the ported programs --------------------------------------------------------------------------

def test_gpt_ng_video_lecture(tmp_path):
    (tmp_path / "input.txt").write_text(stdlib_text())
    out = run("gpt.py", cwd=tmp_path)
    train = numbers(r"train loss (\S+),", out)
    assert len(train) == 3 and train[-1] < train[0]
    assert len(out.rstrip().splitlines()[-1]) > 0  # the sampled text (500 tokens) was printed


def test_mingpt_chargpt(tmp_path):
    (tmp_path / "input.txt").write_text(stdlib_text())
    out = run("chargpt.py", "--model.model_type=gpt-nano", "--data.block_size=32", "--trainer.max_iters=12",
              "--trainer.batch_size=8", "--trainer.num_workers=0", cwd=tmp_path)
    loss = numbers(r"train loss (\S+)", out)
    assert len(loss) == 2 and loss[1] < loss[0]
    assert "O God, O God!" in out and (tmp_path / "out" / "chargpt" / "model.pt").exists()


@pytest.mark.parametrize("kind,workers", [("transformer", 2), ("gru", 0)])
def test_makemore(tmp_path, kind, workers):
    import builtins
    import keyword
    words = sorted({w.lower() for w in dir(builtins) + keyword.kwlist if w.isalpha()})
    (tmp_path / "words.txt").write_text("\n".join(words) + "\n")
    out = run("makemore.py", "-i", "words.txt", "-o", "out", "--type", kind, "--max-steps", 21, "-n", workers,
              "--n-layer", 2, "--n-embd", 16, "--n-embd2", 16, "-b", 16, "--seed", 1, cwd=tmp_path)
    loss = numbers(r"\| loss (\S+) \|", out)
    assert len(loss) == 3 and min(loss[1:]) < loss[0]


def test_time_sequence_prediction(tmp_path):
    run("time_sequence_prediction/generate_sine_wave.py", cwd=tmp_path)
    out = run("time_sequence_prediction/train.py", "--steps", 1, cwd=tmp_path)
    loss = numbers(r"(?m)^loss: (\S+)", out)
    assert len(loss) > 3 and loss[-1] < loss[0] / 2  # one LBFGS step: up to 20 closure evaluations
    numbers(r"test loss: (\S+)", out)
    assert (tmp_path / "predict0.pdf").exists()


def test_vae(tmp_path):
    (tmp_path / "results").mkdir()
    out = run("vae.py", "--epochs", 1, "--batch-size", 128, "--log-interval", 5, cwd=tmp_path)
    loss = numbers(r"Loss: (\S+)", out)
    assert len(loss) == 3 and loss[-1] < loss[0]
    numbers(r"Test set loss: (\S+)", out)
    assert (tmp_path / "results" / "sample_1.png").exists()


def test_dcgan(tmp_path):
    out = run("dcgan.py", "--dataset", "fake", "--dry-run", "--batchSize", 8, "--ngf", 8, "--ndf", 8, "--nz", 16,
              "--manualSeed", 1, "--outf", "out", "--workers", 0, cwd=tmp_path)
    numbers(r"Loss_D: (\S+)", out), numbers(r"Loss_G: (\S+)", out)
    assert "LeakyReLU(negative_slope=0.2, inplace=True)" in out  # the model printout is torch's
    assert {"netG_epoch_0.pth", "netD_epoch_0.pth", "fake_samples_epoch_000.png"} <= set(os.listdir(tmp_path / "out"))


def test_mnist_forward_forward(tmp_path):
    out = run("mnist_forward_forward.py", "--epochs", 21, "--train_size", 300, "--test_size", 100, cwd=tmp_path)
    loss = numbers(r"Loss:  (\S+)", out)
    assert len(loss) == 6 and loss[2] < loss[0] and loss[5] < loss[3]  # both layers learn
    numbers(r"train error: (\S+)", out), numbers(r"test error: (\S+)", out)


def test_mnist_cnn(tmp_path):
    out = run("mnist_cnn.py", "--epochs", 1, "--batch-size", 128, "--log-interval", 3, "--save-model", cwd=tmp_path)
    loss = numbers(r"Loss: (\S+)", out)
    assert len(loss) == 4 and loss[-1] < loss[0]
    assert float(re.search(r"Accuracy: (\d+)/297", out).group(1)) > 297 * 0.2  # chance is 10%
    assert (tmp_path / "mnist_cnn.pt").exists()


def test_regression_polynomial_fit(tmp_path):
    out = run("regression.py", cwd=tmp_path)  # SGD by hand through p.data.add_ until loss < 1e-3
    loss, batches = re.search(r"Loss: (\S+) after (\d+) batches", out).groups()
    assert float(loss) < 1e-3 and int(batches) < 5000
    want = [float(v) for v in re.findall(r"([+-]\d+\.\d+)", out.split("Actual function:")[1])]
    got = [float(v) for v in re.findall(r"([+-]\d+\.\d+)", out.split("Learned function:")[1].split("\n")[0])]
    assert len(got) == len(want) == 5 and np.allclose(got, want, atol=0.5), (got, want)


def test_mnist_rnn(tmp_path):
    out = run("mnist_rnn.py", "--epochs", 1, "--dry-run", cwd=tmp_path)
    numbers(r"Loss: (\S+)", out)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="torch.save(model) of a whole nn.Module (pickle) is refused by cr.save (io/checkpoint.py)")
def test_word_language_model(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.txt").write_text(stdlib_text(6000))
    (data / "valid.txt").write_text(inspect.getsource(string)[:1500])
    (data / "test.txt").write_text(inspect.getsource(string)[1500:3000])
    out = run_until_gap("cannot save an object of type RNNModel", "word_language_model/main.py", "--data", data,
                        "--epochs", 1, "--emsize", 16, "--nhid", 16, "--bptt", 8, "--batch_size", 4,
                        "--save", tmp_path / "m.pt", cwd=tmp_path)
    numbers(r"test loss\s+(\S+)", out)


def write_cora_from_digits(folder):
    """Cora's two files (cora.content: id, binary features, class; cora.cites: cited, citing) built
    from scikit-learn's digits: 1797 nodes, 64 features (pixel > 8), each cited by its 3 nearest."""
    from sklearn.datasets import load_digits
    d = load_digits()
    ids = np.arange(len(d.target)) * 7 + 31
    folder.mkdir()
    rows = ["\t".join([str(i)] + [str(int(v > 8)) for v in x] + [f"class_{y}"])
            for i, x, y in zip(ids, d.data, d.target)]
    (folder / "cora.content").write_text("\n".join(rows) + "\n")
    dist = ((d.data[:, None, :] - d.data[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(dist, np.inf)
    near = np.argsort(dist, axis=1)[:, :3]
    (folder / "cora.cites").write_text("".join(f"{ids[j]}\t{ids[i]}\n" for i in range(len(ids)) for j in near[i]))


def test_gat(tmp_path):
    write_cora_from_digits(tmp_path / "cora")
    out = run("gat.py", "--epochs", 3, "--num-heads", 2, "--hidden-dim", 8, "--val-every", 1, cwd=tmp_path)
    loss = numbers(r"loss_train: (\S+)", out)
    assert len(loss) == 3 and loss[-1] < loss[0]


REQUESTS_STUB = '''"""requests.get(url, stream=True) serving the file CHAINRULE_TEST_DOWNLOAD names (tests only)."""
import os


class _Response:
    def __init__(self, path):
        self.raw = open(path, "rb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.raw.close()


def get(url, stream=False, **kwargs):
    return _Response(os.environ["CHAINRULE_TEST_DOWNLOAD"])
'''


def test_gcn(tmp_path, monkeypatch):
    """pytorch/examples gcn unchanged: it downloads cora.tgz with requests on every run, so a requests stub
    first on PYTHONPATH serves a cora.tgz of the digits graph."""
    import tarfile
    write_cora_from_digits(tmp_path / "cora")
    with tarfile.open(tmp_path / "cora.tgz", "w:gz") as tgz:
        tgz.add(tmp_path / "cora", arcname="cora")
    (tmp_path / "stub").mkdir()
    (tmp_path / "stub" / "requests.py").write_text(REQUESTS_STUB)
    (tmp_path / "run").mkdir()
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "stub"))
    monkeypatch.setenv("CHAINRULE_TEST_DOWNLOAD", str(tmp_path / "cora.tgz"))
    out = run("gcn.py", "--epochs", 5, "--val-every", 1, cwd=tmp_path / "run")
    loss = numbers(r"loss_train: (\S+)", out)
    assert len(loss) == 5 and loss[-1] < loss[0]
    assert float(re.search(r"Test set results: loss (\S+) accuracy (\S+)", out).group(2)) > 0.1  # chance


def test_gcn_graph_and_layers_match_torch(tmp_path, monkeypatch):
    """The port's own load_cora (sparse diag @ dense, eye + sparse, sums, to_sparse, sparse @ dense @ sparse)
    and its GCN (torch.mm of sparse features, torch.spmm) give torch's numbers: the same source run under
    both libraries, the same weights, in eval mode."""
    import types
    write_cora_from_digits(tmp_path / "cora")
    monkeypatch.setitem(sys.modules, "requests", types.ModuleType("requests"))
    src = open(os.path.join(PORTED, "gcn.py")).read()
    mods = []
    for lib in ("chainrule", "torch"):
        code = src if lib == "chainrule" else src.replace("chainrule as torch", "torch").replace("chainrule", "torch")
        namespace = {"__name__": "gcn_port"}
        exec(compile(code, "gcn.py", "exec"), namespace)
        mods.append(namespace)
    (cf, cl, ca), (tf, tl, ta) = (m["load_cora"](str(tmp_path / "cora")) for m in mods)
    np.testing.assert_allclose(cf.to_dense().numpy(), tf.to_dense().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ca.to_dense().numpy(), ta.to_dense().numpy(), rtol=1e-6)
    assert np.array_equal(cl.numpy(), tl.numpy()) and ca.dtype == cr.float32 and ta.dtype == torch.float32
    cm, tm = mods[0]["GCN"](64, 8, 10, True, 0.5).eval(), mods[1]["GCN"](64, 8, 10, True, 0.5).eval()
    for c, t in zip(cm.parameters(), tm.parameters()):
        c.data = cr.tensor(t.detach().numpy())
    outs = []
    for m, f, a in ((cm, cf, ca), (tm, tf, ta)):
        out = m(f, a)
        out[:50].sum().backward()
        outs.append([out.detach().numpy()] + [p.grad.numpy() for p in m.parameters()])
    for c, t in zip(*outs):
        np.testing.assert_allclose(c, t, rtol=1e-4, atol=1e-6)


def test_mnist_hogwild(tmp_path, monkeypatch):
    """pytorch/examples mnist_hogwild unchanged: two spawned processes train the one model in shared memory
    (Module.share_memory, chainrule.multiprocessing), then the parent tests it: it must have learned (an
    untrained model: loss 2.32, 8%), which it cannot unless the children's updates reached its weights."""
    monkeypatch.setenv("PYTHONPATH", PORTED)  # _vision_stub, for the spawned processes too
    out = run("mnist_hogwild/main.py", "--epochs", 2, "--num-processes", 2, "--log-interval", 100, "--save_model",
              cwd=tmp_path, timeout=180)
    assert len(numbers(r"Loss: (\S+)", out)) == 4  # two processes, two epochs, one line each
    loss, right = re.search(r"Average loss: (\S+), Accuracy: (\d+)/297", out).groups()
    assert float(loss) < 2.2 and int(right) > 297 * 0.3
    assert (tmp_path / "MNIST_hogwild.pt").exists()


@pytest.mark.parametrize("script", ["reinforce.py", "actor_critic.py"])
def test_reinforcement_learning_solves_cartpole(tmp_path, monkeypatch, script):
    """pytorch/examples reinforcement_learning unchanged (Categorical sampling and log_prob, returns,
    smooth_l1_loss, Adam) on tests/stubs/gymnasium's CartPole-v1: each runs until its running reward passes
    the environment's threshold, here lowered from 475 to 100 (from 10 at the start) to keep the test short;
    at 475 both solve it too (reinforce 320 episodes, actor_critic 530, on this machine 45 s and 90 s)."""
    monkeypatch.setenv("PYTHONPATH", os.path.join(ROOT, "tests", "stubs"))
    monkeypatch.setenv("GYM_STUB_REWARD_THRESHOLD", "100")
    out = run(f"reinforcement_learning/{script}", "--log-interval", 10, cwd=tmp_path, timeout=240)
    running = numbers(r"Average reward: (\S+)", out)
    assert float(re.search(r"Solved! Running reward is now (\S+)", out).group(1)) > 100 and running[-1] > running[0]


def test_siamese_network(tmp_path, monkeypatch):
    """pytorch/examples siamese_network unchanged: a ResNet-18 (the stub's, torchvision's layout) with its stem
    replaced and its head cut off by ``children()[:-1]``, pairs of digits, BCELoss, Adadelta, StepLR; one
    epoch must beat chance (50%) on same/different pairs. The program draws its pairs from Python's
    ``random``, which its --seed does not seed (one epoch read 59% and 72% unseeded): a launcher seeds it (73%)."""
    (tmp_path / "seeded.py").write_text("import random, runpy, sys\nrandom.seed(0)\nsys.argv = sys.argv[1:]\n"
                                        "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    monkeypatch.setenv("PYTHONPATH", PORTED)  # _vision_stub (runpy leaves the script's folder off sys.path)
    out = run(str(tmp_path / "seeded.py"), os.path.join(PORTED, "siamese_network.py"), "--epochs", 1,
              "--log-interval", 5, "--save-model", cwd=tmp_path, timeout=240)
    loss = numbers(r"Loss: (\S+)", out)
    assert len(loss) == 5 and min(loss[2:]) < loss[0]
    assert int(re.search(r"Accuracy: (\d+)/297", out).group(1)) > 297 * 0.6
    assert (tmp_path / "siamese_network.pt").exists()


ACCURACY, VAE_LOSS = r"test images: (\S+) %", r"Reconst Loss: (\S+),"


@pytest.mark.parametrize("script, pattern, least, files", [
    ("tutorial_feedforward.py", ACCURACY, 70, ["model.ckpt"]),
    ("tutorial_cnn.py", ACCURACY, 40, ["model.ckpt"]),
    ("tutorial_rnn.py", ACCURACY, 40, ["model.ckpt"]),
    ("tutorial_birnn.py", ACCURACY, 40, ["model.ckpt"]),
    ("tutorial_vae.py", VAE_LOSS, None, ["samples/sampled-1.png", "samples/reconst-1.png"]),
    ("tutorial_gan.py", None, None, ["G.ckpt", "D.ckpt", "samples/fake_images-1.png", "samples/real_images.png"]),
    ("tutorial_resnet.py", ACCURACY, None, ["resnet.ckpt"]),  # one epoch of 15 steps: chance, torch's too
])
def test_yunjey_pytorch_tutorial(tmp_path, script, pattern, least, files):
    """yunjey/pytorch-tutorial's training scripts unchanged (epochs shrunk where the original runs many):
    the classifiers' test accuracy beats chance by far (the ResNet's on the stub's CIFAR10: printed and finite) (torch 2.13 on the same digits, unseeded runs:
    feedforward 90%, CNN 67-84%, LSTM 62%; chainrule's default seed gives 89%, 58% and 66%, its seeds 1-4
    give the CNN 70-79%), the VAE's losses are finite, and each writes what the original writes (the GAN
    logs every 200 steps: one epoch of the digits is 15)."""
    out = run(script, cwd=tmp_path, timeout=120)
    if pattern is not None:
        found = numbers(pattern, out)
        assert least is None or found[-1] > least
    for name in files:
        assert (tmp_path / name).exists(), name


def test_yunjey_language_model(tmp_path):
    """yunjey/pytorch-tutorial's LSTM language model (Embedding, LSTM with carried and detached states,
    clip_grad_norm_, Adam, then 1,000 words sampled with multinomial under no_grad) on text that ships with
    Python: the loss at the start of each of its 5 epochs falls, and it writes its 1,000 sampled words."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.txt").write_text(stdlib_text())
    out = run("tutorial_language_model/main.py", cwd=tmp_path, timeout=120)
    loss = numbers(r"Loss: (\S+),", out)
    assert len(loss) == 5 and loss[-1] < loss[0]
    assert len((tmp_path / "sample.txt").read_text().split()) > 500

def test_nanogpt_shakespeare_char(tmp_path):
    """karpathy/nanoGPT unchanged: prepare.py on local text (its download is skipped when input.txt
    exists), train.py eagerly, then resumed with --compile=True (cr.compile(model) is a Module whose
    state_dict keys carry torch's ``_orig_mod.`` prefix, which train.py strips), then sample.py (tiktoken
    is imported but unused with meta.pkl: a stub). The compiled model gives the eager losses."""
    import shutil
    work = tmp_path / "nanogpt"
    shutil.copytree(os.path.join(PORTED, "nanogpt"), work)
    data = work / "data" / "shakespeare_char"
    (data / "input.txt").write_text(stdlib_text())
    run(str(data / "prepare.py"), cwd=data)
    small = ["config/train_shakespeare_char.py", "--device=cpu", "--eval_iters=2", "--log_interval=1",
             "--block_size=32", "--batch_size=4", "--n_layer=2", "--n_head=2", "--n_embd=32", "--eval_interval=3",
             "--dropout=0.1"]
    first = run(str(work / "train.py"), *small, "--compile=False", "--max_iters=6", "--lr_decay_iters=9", cwd=work)
    assert "saving checkpoint to out-shakespeare-char" in first
    shutil.copytree(work / "out-shakespeare-char", work / "out-copy")  # both resumes start from one checkpoint
    resumed = run(str(work / "train.py"), *small, "--compile=True", "--max_iters=9", "--lr_decay_iters=9",
                  "--init_from=resume", cwd=work)
    eager = run(str(work / "train.py"), *small, "--compile=False", "--max_iters=9", "--lr_decay_iters=9",
                "--init_from=resume", "--out_dir=out-copy", cwd=work)
    start = int(re.findall(r"iter (\d+):", resumed)[0])
    losses = numbers(r"iter \d+: loss ([-\d.]+)", resumed)
    assert start in (3, 6) and len(losses) == 10 - start  # resumed at the saved (best validation) step
    np.testing.assert_allclose(losses, numbers(r"iter \d+: loss ([-\d.]+)", eager), rtol=1e-3)
    (tmp_path / "stub").mkdir()
    (tmp_path / "stub" / "tiktoken.py").write_text("def get_encoding(name):\n    raise RuntimeError('unused')\n")
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "stub"), env_path])
    try:
        sample = run(str(work / "sample.py"), "--out_dir=out-shakespeare-char", "--device=cpu", "--num_samples=1",
                     "--max_new_tokens=40", "--compile=False", cwd=work)
    finally:
        os.environ["PYTHONPATH"] = env_path
    assert sample.rstrip().endswith("---------------") and len(sample) > 40


def write_names(folder):
    """makemore's names.txt (the lectures download it): the lecture's first five names, then words
    made from the standard library's names."""
    import builtins
    import keyword
    words = sorted({w.lower() for w in dir(builtins) + dir(os) + keyword.kwlist if w.isalpha() and 3 <= len(w) <= 12})
    (folder / "names.txt").write_text("\n".join(["emma", "olivia", "ava", "isabella", "sophia"] + words * 20) + "\n")


def test_makemore_backprop_ninja(tmp_path):
    """Lecture 4 of nn-zero-to-hero: every gradient of a 2-layer MLP with batch norm written by hand
    and compared with autograd's (``cmp``), then the net trained with the manual backward only."""
    write_names(tmp_path)
    out = run("nn_zero_to_hero/makemore_part4_backprop.py", cwd=tmp_path, timeout=120)
    rows = re.findall(r"(\w+)\s+\| exact: (True|False)\s*\| approximate: (True|False)\s*\| maxdiff: (\S+)", out)
    assert len(rows) >= 28 and all(approx == "True" for _, _, approx, _ in rows), rows
    assert sum(exact == "True" for _, exact, _, _ in rows) >= 26  # the fused forms agree to ~1e-9, as in torch
    assert all(math.isfinite(float(d)) and float(d) < 1e-6 for *_, d in rows)
    assert numbers(r"\n\s+0/\s+1000: ([\d.]+)", out)


def test_makemore_batchnorm_lecture(tmp_path):
    write_names(tmp_path)
    out = run("nn_zero_to_hero/makemore_part3_bn.py", cwd=tmp_path, timeout=180)
    assert numbers(r"\n\s+0/\s+1000: ([\d.]+)", out)
    assert numbers(r"w grad std:\s+(\S+)", out)


def test_makemore_wavenet_lecture(tmp_path):
    write_names(tmp_path)
    out = run("nn_zero_to_hero/makemore_part5_cnn1.py", cwd=tmp_path, timeout=300)
    assert numbers(r"\n\s+0/\s+1000: ([\d.]+)", out)

# ---- regression tests for the gaps the ported programs found (against torch) ----------------------

def test_backends_flag_namespaces_import_as_modules():
    import chainrule.backends.cudnn as cudnn   # dcgan.py: import torch.backends.cudnn as cudnn
    import chainrule.backends.cuda
    from chainrule.backends import mps
    assert cudnn is cr.backends.cudnn and chainrule.backends.cuda is cr.backends.cuda and mps is cr.backends.mps
    assert cudnn.benchmark == torch.backends.cudnn.benchmark and cudnn.enabled == torch.backends.cudnn.enabled
    old = cudnn.benchmark
    try:
        cudnn.benchmark = True
        assert cr.backends.cudnn.benchmark is True
    finally:
        cudnn.benchmark = old


LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "ByteTensor", "CharTensor", "ShortTensor", "IntTensor",
          "LongTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_tensor_constructors(name):
    c, t = getattr(cr, name), getattr(torch, name)
    for args in [(), (3,), (2, 3), ([1, 0, 2],), ([[1, 2], [3, 0]],), (np.array([1, 0, 1]),)]:
        a, b = c(*args), t(*args)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        if args and not isinstance(args[0], int):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tuple(c(cr.Size([2, 4])).shape) == tuple(t(torch.Size([2, 4])).shape) == (2, 4)
    x, y = c([1, 0]), t([1, 0])
    assert isinstance(x, c) and isinstance(y, t)
    other = "FloatTensor" if name != "FloatTensor" else "LongTensor"
    assert not isinstance(x, getattr(cr, other)) and not isinstance(y, getattr(torch, other))
    assert x.type() == y.type() == f"torch.{name}"
    conv_c, conv_t = cr.tensor([1.7, 0.0, -2.2]).type(c), torch.tensor([1.7, 0.0, -2.2]).type(t)  # old scripts
    np.testing.assert_array_equal(conv_c.numpy(), conv_t.numpy())
    assert conv_c.type() == conv_t.type()
    same = c(x)
    assert same.dtype == x.dtype and np.shares_memory(same.numpy(), x.numpy())
    for bad in [(2.5,), ([1], [2])]:
        with pytest.raises(TypeError):
            t(*bad)
        with pytest.raises(TypeError):
            c(*bad)
    with pytest.raises(RuntimeError):
        t(-1)
    with pytest.raises(RuntimeError):
        c(-1)
    with pytest.raises(TypeError):
        t(torch.zeros(2, dtype=torch.complex64))
    with pytest.raises(TypeError):
        c(cr.zeros(2, dtype=cr.float64 if name != "DoubleTensor" else cr.float32))


def test_legacy_constructor_in_word_language_model_export():
    # main.py's export_onnx: torch.LongTensor(seq_len * batch_size).zero_().view(-1, batch_size)
    a, b = cr.LongTensor(6).zero_().view(-1, 2), torch.LongTensor(6).zero_().view(-1, 2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == cr.int64


def test_reassigned_submodules_and_parameters_keep_their_place_as_torch():
    # word_language_model's TransformerModel(nn.Transformer) replaces self.decoder with a Linear:
    # torch keeps the name's place, so state_dict/parameters() order (optimizer state) is torch's
    res = []
    for lib in (cr, torch):
        m = lib.nn.Module()
        m.a, m.b = lib.nn.Linear(1, 1), lib.nn.Linear(1, 1)
        m.a = lib.nn.Linear(2, 2)
        m.add_module("b", lib.nn.Tanh())
        m.register_buffer("x", lib.ones(1))
        m.register_buffer("y", lib.ones(1))
        m.register_buffer("x", lib.zeros(1), persistent=False)
        m.p, m.q = lib.nn.Parameter(lib.ones(1)), lib.nn.Parameter(lib.ones(1))
        m.p = lib.nn.Parameter(lib.zeros(2))
        res.append((list(m.state_dict()), [n for n, _ in m.named_children()], [n for n, _ in m.named_buffers()],
                    [tuple(p.shape) for p in m.parameters()]))
    assert res[0] == res[1]


ACTIVATIONS = [("ReLU", (True,), {}), ("ReLU", (), {}), ("LeakyReLU", (0.2, True), {}), ("LeakyReLU", (), {}),
               ("ELU", (), {"inplace": True}), ("ELU", (0.5,), {}), ("Hardtanh", (), {"inplace": True}),
               ("ReLU6", (True,), {}), ("SiLU", (True,), {}), ("Threshold", (0.1, 2.0, True), {}),
               ("CELU", (), {"inplace": True}), ("SELU", (True,), {}), ("Mish", (True,), {}),
               ("Hardswish", (True,), {}), ("Hardsigmoid", (True,), {}), ("RReLU", (), {"inplace": True}),
               ("Dropout", (0.1, True), {})]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS)
def test_activation_repr_names_inplace_like_torch(name, args, kwargs):
    assert repr(getattr(cr.nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("name,args", [("ReLU", (True,)), ("LeakyReLU", (0.2, True)), ("ELU", (1.0, True))])
def test_inplace_activation_modules_write_through_with_torch_grads(name, args):
    a = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    res = []
    for lib in (cr, torch):
        x = lib.tensor(a, requires_grad=True)
        h = x * 2.0
        out = getattr(lib.nn, name)(*args)(h)
        if name == "ReLU":  # F.leaky_relu/F.elu(inplace=True) still return a new tensor (nn/functional.py)
            assert out is h  # in place, as torch: the module returns its (modified) input
        out.backward(lib.tensor(g))
        res.append((out.detach().numpy().copy(), x.grad.numpy().copy()))
    for c, t in zip(*res):
        np.testing.assert_allclose(c, t, rtol=1e-5, atol=1e-6)


# ---- the ported models against torch: same weights in, same outputs and gradients out ------------

def load_ported(relpath, framework):
    """Execute examples/ported/<relpath> (its __main__ block skipped) with chainrule, or with its
    imports turned back into torch's, and return its namespace."""
    path = os.path.join(PORTED, relpath)
    with open(path) as f:
        src = f.read()
    if framework == "torch":
        src = re.sub(r"(?m)^import chainrule as torch$", "import torch", src)
        src = re.sub(r"(?m)^import chainrule\.", "import torch.", src)
        src = re.sub(r"(?m)^from chainrule([. ])", r"from torch\1", src)
    ns = {"__name__": "ported_" + framework, "__file__": path}
    exec(compile(src, path, "exec"), ns)
    return ns


@pytest.fixture
def ported_path(monkeypatch):
    monkeypatch.syspath_prepend(PORTED)  # mingpt/, _vision_stub


def transfer(tmodel, cmodel):
    """Copy torch's state dict into the chainrule model: same names, same shapes."""
    tsd, csd = tmodel.state_dict(), cmodel.state_dict()
    assert list(tsd) == list(csd)
    for k in tsd:
        assert tuple(tsd[k].shape) == tuple(csd[k].shape), k
    cmodel.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tsd.items()})


def assert_same_grads(tmodel, cmodel, rtol=2e-4, atol=2e-5):
    cgrads = dict(cmodel.named_parameters())
    for name, p in tmodel.named_parameters():
        g = cgrads[name].grad
        if p.grad is None:
            assert g is None or not np.any(g.numpy()), name
            continue
        np.testing.assert_allclose(g.numpy(), p.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


def close(a, b, rtol=2e-4, atol=2e-5):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_TANH", "Transformer"])
def test_word_language_model_models_match_torch(kind):
    T, C = load_ported("word_language_model/model.py", "torch"), load_ported("word_language_model/model.py", "cr")
    torch.manual_seed(0)
    ntok, seq, bsz = 40, 7, 3
    if kind == "Transformer":
        tm, cm = T["TransformerModel"](ntok, 16, 2, 32, 2, 0.0), C["TransformerModel"](ntok, 16, 2, 32, 2, 0.0)
    else:
        tm, cm = T["RNNModel"](kind, ntok, 16, 16, 2, 0.0), C["RNNModel"](kind, ntok, 16, 16, 2, 0.0)
    transfer(tm, cm)
    tm.eval(), cm.eval()  # nn.Transformer's own layers have dropout 0.1
    idx = np.random.default_rng(0).integers(0, ntok, (seq, bsz))
    tgt = np.random.default_rng(1).integers(0, ntok, seq * bsz)
    outs = []
    for lib, m in ((torch, tm), (cr, cm)):
        if kind == "Transformer":
            out = m(lib.tensor(idx)).view(-1, ntok)
        else:
            out, hidden = m(lib.tensor(idx), m.init_hidden(bsz))
        lib.nn.NLLLoss()(out, lib.tensor(tgt)).backward()
        outs.append(out)
    close(outs[1], outs[0])
    assert_same_grads(tm, cm)


@pytest.mark.parametrize("kind", ["transformer", "gru", "rnn", "bow", "mlp", "bigram"])
def test_makemore_models_match_torch(kind):
    T, C = load_ported("makemore.py", "torch"), load_ported("makemore.py", "cr")
    names = {"transformer": "Transformer", "bow": "BoW", "mlp": "MLP", "bigram": "Bigram"}

    def make(ns):
        cfg = ns["ModelConfig"](vocab_size=12, block_size=6, n_layer=2, n_head=2, n_embd=8, n_embd2=8)
        return ns["RNN"](cfg, cell_type=kind) if kind in ("gru", "rnn") else ns[names[kind]](cfg)

    torch.manual_seed(0)
    tm, cm = make(T), make(C)
    with torch.no_grad():  # makemore starts these at zero; random values make the test stronger
        for p in tm.parameters():
            p.normal_(0, 0.5)
    transfer(tm, cm)
    idx = np.random.default_rng(0).integers(0, 12, (4, 6))
    tgt = np.random.default_rng(1).integers(-1, 12, (4, 6))  # -1: ignore_index
    res = []
    for lib, m in ((torch, tm), (cr, cm)):
        logits, loss = m(lib.tensor(idx), lib.tensor(tgt))
        loss.backward()
        res.append((logits, loss))
    close(res[1][0], res[0][0]), close(res[1][1], res[0][1])
    assert_same_grads(tm, cm)


def test_mingpt_model_and_optimizer_step_match_torch(ported_path):
    T, C = load_ported("mingpt/model.py", "torch"), load_ported("mingpt/model.py", "cr")
    Tt, Ct = load_ported("mingpt/trainer.py", "torch"), load_ported("mingpt/trainer.py", "cr")

    def make(ns):
        cfg = ns["GPT"].get_default_config()
        cfg.model_type, cfg.vocab_size, cfg.block_size = "gpt-nano", 20, 8
        cfg.embd_pdrop = cfg.resid_pdrop = cfg.attn_pdrop = 0.0
        return ns["GPT"](cfg)

    torch.manual_seed(0)
    tm, cm = make(T), make(C)
    transfer(tm, cm)
    idx = np.random.default_rng(0).integers(0, 20, (3, 8))
    tgt = np.random.default_rng(1).integers(0, 20, (3, 8))
    res = []
    for lib, m, tr in ((torch, tm, Tt), (cr, cm, Ct)):
        opt = m.configure_optimizers(tr["Trainer"].get_default_config())  # AdamW, decay/no-decay groups
        logits, loss = m(lib.tensor(idx), lib.tensor(tgt))
        loss.backward()
        opt.step()
        gen = m.generate(lib.tensor(idx[:, :3]), 4, do_sample=False)  # greedy: deterministic
        res.append((logits, loss, gen, [len(g["params"]) for g in opt.param_groups]))
    close(res[1][0], res[0][0]), close(res[1][1], res[0][1])
    np.testing.assert_array_equal(res[1][2].numpy(), res[0][2].numpy())
    assert res[1][3] == res[0][3]
    cparams = dict(cm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(cparams[name].detach().numpy(), p.detach().numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)


def test_time_sequence_prediction_model_matches_torch(ported_path):
    # time_sequence_prediction: two LSTMCells in float64, with 3 future steps fed back
    T, C = (load_ported("time_sequence_prediction/train.py", f) for f in ("torch", "cr"))
    torch.manual_seed(0)
    tm, cm = T["Sequence"]().double(), C["Sequence"]().double()
    transfer(tm, cm)
    x = np.sin(np.arange(24.0)).reshape(2, 12) / 2
    outs = []
    for lib, m in ((torch, tm), (cr, cm)):
        out = m(lib.tensor(x), future=3)
        lib.nn.MSELoss()(out[:, :-3], lib.tensor(x)).backward()
        outs.append(out)
    close(outs[1], outs[0], rtol=1e-10, atol=1e-12)
    assert_same_grads(tm, cm, rtol=1e-9, atol=1e-12)


def test_mnist_rnn_model_matches_torch(ported_path):
    # mnist_rnn: LSTM(batch_first) + BatchNorm1d + Dropout2d on (N, 64) + Linear, eval mode
    T, C = (load_ported("mnist_rnn.py", f) for f in ("torch", "cr"))
    tm, cm = T["Net"](), C["Net"]()
    transfer(tm, cm)
    tm.eval(), cm.eval()
    img = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    outs = []
    for lib, m in ((torch, tm), (cr, cm)):
        out = m(lib.tensor(img))
        lib.nn.functional.nll_loss(out, lib.tensor([1, 2, 3, 4])).backward()
        outs.append(out)
    close(outs[1], outs[0])
    assert_same_grads(tm, cm)


def test_autograd_variable_as_torch():
    # old programs: from torch.autograd import Variable; x = Variable(t, requires_grad=True)
    for lib in (torch, cr):
        V = lib.autograd.Variable
        t, x = lib.ones(2) * 3, lib.ones(2, requires_grad=True)
        v, w, u = V(t), V(x * 2), V(t, requires_grad=True)
        assert v is not t and not v.requires_grad and not w.requires_grad and w.grad_fn is None
        assert u.requires_grad and u.is_leaf and not t.requires_grad
        assert np.shares_memory(v.numpy(), t.numpy()) if lib is cr else v.data_ptr() == t.data_ptr()
        assert isinstance(t, V) and not isinstance(3, V)
        with pytest.raises(TypeError):
            V([1, 2])


def test_autograd_grad_accepts_torch_keywords():
    # WGAN-GP style: autograd.grad(..., create_graph=True, retain_graph=True, only_inputs=True)
    res = []
    for lib in (torch, cr):
        x, z = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True), lib.ones(2, requires_grad=True)
        g, = lib.autograd.grad(outputs=(x ** 2).sum(1), inputs=x, grad_outputs=lib.ones(2), create_graph=True,
                               retain_graph=True, only_inputs=True)
        ((g.norm(2, dim=1) - 1) ** 2).mean().backward()
        gx, gz = lib.autograd.grad((x ** 3).sum(), [x, z], materialize_grads=True)
        with pytest.raises(ValueError):
            lib.autograd.grad((x ** 3).sum(), [x, z], materialize_grads=True, allow_unused=False)
        res.append((x.grad.numpy().copy(), gx.detach().numpy(), gz.numpy()))
    for c, t in zip(res[1], res[0]):
        np.testing.assert_allclose(c, t, rtol=1e-12)


def test_nn_modules_paths_and_serialization_allowlist_as_torch():
    # word_language_model/main.py: with torch.serialization.safe_globals([torch.nn.modules.<file>.<Class>, ...])
    import chainrule.nn.modules.activation  # noqa: F401 (importable like torch.nn.modules.activation)
    from chainrule.nn.modules.loss import _Loss
    for file in ("activation", "container", "dropout", "linear", "normalization", "sparse", "transformer", "rnn"):
        tns, cns = getattr(torch.nn.modules, file), getattr(cr.nn.modules, file)
        for name, obj in vars(cns).items():
            if isinstance(obj, type):
                assert hasattr(tns, name), f"torch.nn.modules.{file} has no {name}"
        for name, obj in vars(tns).items():  # every public class torch defines there that chainrule has
            if isinstance(obj, type) and obj.__module__ == tns.__name__ and not name.startswith("_") \
                    and hasattr(cr.nn, name):
                assert getattr(cns, name) is getattr(cr.nn, name), (file, name)
    assert isinstance(cr.nn.MSELoss(), _Loss) and isinstance(cr.nn.CrossEntropyLoss(), cr.nn.modules.loss._WeightedLoss)
    assert isinstance(cr.nn.BatchNorm1d(2), cr.nn.modules.batchnorm._BatchNorm)
    assert type(cr.nn.MultiheadAttention(4, 2).out_proj) is cr.nn.modules.linear.NonDynamicallyQuantizableLinear
    assert cr.nn.modules.Linear is cr.nn.Linear
    for lib in (torch, cr):
        s = lib.serialization
        before = s.get_safe_globals()
        with s.safe_globals([lib.nn.modules.sparse.Embedding]):
            assert lib.nn.modules.sparse.Embedding in s.get_safe_globals()
        assert set(s.get_safe_globals()) == set(before)  # torch's order is a set's
