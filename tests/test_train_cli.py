"""`chainrule train`: data sources, settings, outputs (checkpoint, metrics.json, PNG), exact resume,
bad data files and the NaN stop. End-to-end runs use 1-2 epochs so the file stays fast."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.cli import build_parser, main, datasets, runs, train

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_train(tmp_path, *args, out="run"):
    """Run `chainrule train` in-process; returns (exit status, output dir)."""
    out_dir = str(tmp_path / out)
    return main(["train", "--out", out_dir, *map(str, args)]), out_dir


def read_metrics(out_dir):
    with open(os.path.join(out_dir, train.METRICS)) as f:
        return json.load(f)


def curves(out_dir):
    epochs = read_metrics(out_dir)["epochs"]
    return [(e["epoch"], e["train_loss"], e["test_accuracy"]) for e in epochs]


def save_npz(tmp_path, name="data.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


# ---- data sources ------------------------------------------------------------------------------
def test_digits_are_the_bundled_8x8_images_scaled_to_unit_range():
    x, y, name = datasets.load("digits")
    assert name == "digits" and x.shape == (1797, 1, 8, 8) and y.shape == (1797,)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))


def test_spiral_is_three_seeded_arms():
    x, y, _ = datasets.load("spiral", seed=3)
    x2, _, _ = datasets.load("spiral", seed=3)
    x3, _, _ = datasets.load("spiral", seed=4)
    assert x.shape == (300, 2) and np.bincount(y).tolist() == [100, 100, 100]
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, x3)
    assert np.abs(x).max() <= 1.0 + 1e-6  # radius runs 0..1


def test_split_is_seeded_disjoint_and_complete():
    train_idx, test_idx = datasets.split(100, 0.2, seed=1)
    assert len(test_idx) == 20 and len(train_idx) == 80
    assert sorted(np.concatenate([train_idx, test_idx]).tolist()) == list(range(100))
    again = datasets.split(100, 0.2, seed=1)
    np.testing.assert_array_equal(again[1], test_idx)
    assert not np.array_equal(datasets.split(100, 0.2, seed=2)[1], test_idx)
    tiny_train, tiny_test = datasets.split(2, 0.01, seed=0)  # both sides keep at least one sample
    assert len(tiny_train) == 1 and len(tiny_test) == 1
    with pytest.raises(datasets.DataError, match="between 0 and 1"):
        datasets.split(10, 1.5, seed=0)


def test_npz_with_integer_valued_float_labels_loads(tmp_path):
    path = save_npz(tmp_path, x=np.arange(12.0).reshape(4, 3), y=np.array([0.0, 1.0, 2.0, 1.0]))
    x, y = datasets.load_npz(path)
    assert x.dtype == np.float32 and x.shape == (4, 3) and y.dtype == np.int64 and y.tolist() == [0, 1, 2, 1]


BAD_NPZ = {
    "missing y": (dict(x=np.zeros((4, 2))), "no array named 'y'"),
    "missing x and y": (dict(a=np.zeros(3)), "no array named 'x' or 'y'"),
    "mismatched lengths": (dict(x=np.zeros((5, 2)), y=np.zeros(4, np.int64)), r"5 samples in x, 4 labels in y"),
    "labels not 1-D": (dict(x=np.zeros((4, 2)), y=np.zeros((4, 1), np.int64)), "1-D"),
    "negative labels": (dict(x=np.zeros((4, 2)), y=np.array([0, -1, 1, 0])), "class indices"),
    "fractional labels": (dict(x=np.zeros((4, 2)), y=np.array([0.5, 1, 1, 0])), "class indices"),
    "scalar samples": (dict(x=np.zeros(4), y=np.zeros(4, np.int64)), r"shape \(N, features"),
    "text inputs": (dict(x=np.array([["a"], ["b"]]), y=np.array([0, 1])), "numeric"),
    "object array": (dict(x=np.array([[1], "ab"], dtype=object), y=np.array([0, 1])), "plain arrays"),
}


@pytest.mark.parametrize("case", sorted(BAD_NPZ))
def test_bad_npz_raises_a_clear_error_naming_the_file(tmp_path, case):
    arrays, message = BAD_NPZ[case]
    if case == "object array":  # np.savez pickles object arrays; loading must refuse, not unpickle
        path = str(tmp_path / "data.npz")
        np.savez(path, **arrays)
    else:
        path = save_npz(tmp_path, **arrays)
    with pytest.raises(datasets.DataError, match=message) as info:
        datasets.load_npz(path)
    assert path in str(info.value)


@pytest.mark.parametrize("content, message", [(None, "no such file"), (b"not a zip", "cannot read"),
                                              ("npy", "single .npy array")])
def test_unreadable_files_raise_a_clear_error(tmp_path, content, message):
    path = str(tmp_path / "data.npz")
    if content == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    elif content is not None:
        with open(path, "wb") as f:
            f.write(content)
    with pytest.raises(datasets.DataError, match=message):
        datasets.load_npz(path)


# ---- settings ----------------------------------------------------------------------------------
def parse(*argv):
    return build_parser().parse_args(["train", *argv])


def test_defaults_per_model_and_optimizer():
    assert train._resolve_config(parse(), None) == {
        "data": "digits", "model": "mlp", "batch_size": 32, "optimizer": "adam", "lr": 1e-3,
        "weight_decay": 0.0, "seed": 0, "test_fraction": 0.2, "activation": "relu", "depth": None}
    cnn = train._resolve_config(parse("--model", "cnn"), None)
    assert cnn["lr"] == train.MODEL_DEFAULTS["cnn"]["lr"]
    sgd = train._resolve_config(parse("--optimizer", "sgd"), None)
    assert sgd["lr"] == train.DEFAULT_LR["sgd"]
    assert train._resolve_config(parse("--optimizer", "adamw"), None)["weight_decay"] == 0.01
    assert train._resolve_config(parse("--optimizer", "adamw", "--weight-decay", "0"), None)["weight_decay"] == 0
    assert train._resolve_config(parse("--lr", "0.5", "--seed", "0"), None)["lr"] == 0.5


def test_resume_keeps_the_checkpoint_settings_and_rejects_conflicts():
    saved = train._resolve_config(parse("--optimizer", "sgd", "--lr", "0.2"), None)
    checkpoint = {"config": saved}
    assert train._resolve_config(parse(), checkpoint) == saved
    assert train._resolve_config(parse("--lr", "0.2", "--epochs", "9"), checkpoint) == saved
    with pytest.raises(train.UsageError, match="--lr 0.2, got --lr 0.1"):
        train._resolve_config(parse("--lr", "0.1"), checkpoint)
    with pytest.raises(train.UsageError, match="--model mlp, got --model cnn"):
        train._resolve_config(parse("--model", "cnn"), checkpoint)


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--batch-size", "-1"], ["--optimizer", "lbfgs"],
                                  ["--model", "rnn"], ["--seed", "-3"], ["--threads", "0"],
                                  ["--test-fraction", "1"]])
def test_invalid_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *argv])
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_cuda_when_unavailable_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cr.cuda, "is_available", lambda: False)
    status, out_dir = run_train(tmp_path, "--device", "cuda", "--epochs", "1")
    assert status == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert not os.path.exists(out_dir)


def test_optimizer_rejecting_its_options_exits_2(tmp_path, capsys):
    status, out_dir = run_train(tmp_path, "--lr", -1)
    assert status == 2 and "--optimizer adam --lr -1 --weight-decay 0: Invalid learning rate" in capsys.readouterr().err
    assert not os.path.exists(out_dir)


def test_unknown_device_exits_2(tmp_path, capsys):
    status, _ = run_train(tmp_path, "--device", "tpu")
    assert status == 2 and "--device 'tpu'" in capsys.readouterr().err


def test_epoch_seed_depends_on_seed_and_epoch_only():
    assert train.epoch_seed(0, 1) == train.epoch_seed(0, 1)
    assert len({train.epoch_seed(s, e) for s in range(3) for e in range(1, 4)}) == 9


# ---- outputs -----------------------------------------------------------------------------------
HISTORY = [{"epoch": 1, "train_loss": 1.5, "test_accuracy": 0.6, "time_s": 0.1},
           {"epoch": 2, "train_loss": 0.7, "test_accuracy": 0.85, "time_s": 0.1}]


def test_plot_is_a_png_and_writes_leave_no_temporary_files(tmp_path):
    path = str(tmp_path / "metrics.png")
    train.plot_metrics(HISTORY, path, title="digits / mlp")
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    train.write_metrics(str(tmp_path / "metrics.json"), {"model": "mlp"}, HISTORY, stopped="why")
    assert json.loads((tmp_path / "metrics.json").read_text()) == {
        "config": {"model": "mlp"}, "epochs": HISTORY, "stopped": "why"}
    assert sorted(os.listdir(tmp_path)) == ["metrics.json", "metrics.png"]


def test_failed_write_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "metrics.json")
    train.write_metrics(path, {}, HISTORY)
    before = open(path).read()

    def fail(f):
        f.write(b"{half")
        raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        runs._atomic_write(path, fail)
    assert open(path).read() == before and os.listdir(tmp_path) == ["metrics.json"]


# ---- the NaN guard -----------------------------------------------------------------------------
def test_nan_loss_stops_before_the_step_and_names_epoch_and_step():
    model = nn.Linear(2, 3)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    good = (cr.tensor([[0.5, -1.0], [1.0, 2.0]]), cr.tensor([0, 2]))
    bad = (cr.tensor([[float("nan"), 0.0], [1.0, 2.0]]), cr.tensor([1, 0]))
    batches = [good, good, bad, good]
    before = None

    class Watch:  # records the weights as they are when the bad batch comes up
        def __iter__(self):
            nonlocal before
            for i, batch in enumerate(batches):
                if i == 2:
                    before = model.weight.detach().clone().numpy()
                yield batch
    with pytest.raises(train.Diverged, match="loss became nan at epoch 4, step 3") as info:
        train.train_epoch(model, Watch(), nn.CrossEntropyLoss(), optimizer, cr.device("cpu"), 4, 5,
                          progress=False)
    assert info.value.epoch == 4 and info.value.step == 3
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)  # no step taken on NaN


# ---- end to end ----------------------------------------------------------------------------------
def test_digits_mlp_writes_checkpoint_metrics_and_plot(tmp_path, capsys):
    status, out_dir = run_train(tmp_path, "--epochs", 2)
    captured = capsys.readouterr()
    assert status == 0
    assert "epoch   1/2  train loss" in captured.out and "epoch   2/2" in captured.out
    assert "epoch 1/2" in captured.err  # the tqdm bar
    assert sorted(os.listdir(out_dir)) == [train.CHECKPOINT, train.METRICS, train.PLOT]
    checkpoint = cr.load(os.path.join(out_dir, train.CHECKPOINT))
    assert checkpoint["epoch"] == 2 and checkpoint["config"]["model"] == "mlp"
    model = train._build_model({"model": "mlp", "activation": "relu", "depth": None}, (1, 8, 8), 10)
    model.load_state_dict(checkpoint["model"])  # the weights fit the model
    assert len(checkpoint["optimizer"]["state"]) == len(list(model.parameters()))
    metrics = read_metrics(out_dir)
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2] and "stopped" not in metrics
    first, second = metrics["epochs"]
    assert second["train_loss"] < first["train_loss"] and second["test_accuracy"] > 0.8
    assert all(e["time_s"] > 0 for e in metrics["epochs"])
    with open(os.path.join(out_dir, train.PLOT), "rb") as f:
        assert f.read(8) == PNG_MAGIC


def test_spiral_trains(tmp_path):
    status, out_dir = run_train(tmp_path, "--data", "spiral", "--epochs", 15, "--lr", 0.01, "--no-progress")
    assert status == 0
    accuracy = [a for _, _, a in curves(out_dir)]
    assert accuracy[-1] > 0.9 > 0.8 > accuracy[0]  # the classic spiral is not linearly separable: it learned


@pytest.mark.parametrize("optimizer", list(train.OPTIMIZERS))
def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path, optimizer):
    common = ("--data", "spiral", "--optimizer", optimizer, "--no-progress")
    assert run_train(tmp_path, *common, "--epochs", 2, out="whole")[0] == 0
    assert run_train(tmp_path, *common, "--epochs", 1, out="split")[0] == 0
    status, split_dir = run_train(tmp_path, "--resume", "--epochs", 2, "--no-progress", out="split")
    assert status == 0
    whole_dir = str(tmp_path / "whole")
    assert curves(split_dir) == curves(whole_dir)
    a = cr.load(os.path.join(whole_dir, train.CHECKPOINT))
    b = cr.load(os.path.join(split_dir, train.CHECKPOINT))
    for key, value in a["model"].items():
        np.testing.assert_array_equal(b["model"][key].numpy(), value.numpy(), err_msg=key)


def bright_top_images(tmp_path, name="bright.npz", flat=False):
    """A small image set a CNN learns fast: class 1 is bright in the top half."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    x = rng.random((200, 6, 6)) * 0.1
    x[y == 1, :3] += 1.0
    return save_npz(tmp_path, name, x=x.reshape(200, -1) if flat else x, y=y)


def test_cnn_resume_matches(tmp_path):
    common = ("--data", bright_top_images(tmp_path), "--model", "cnn", "--no-progress")
    run_train(tmp_path, *common, "--epochs", 2, out="whole")
    run_train(tmp_path, *common, "--epochs", 1, out="split")
    assert run_train(tmp_path, *common, "--epochs", 2, "--resume", out="split")[0] == 0
    assert curves(str(tmp_path / "split")) == curves(str(tmp_path / "whole"))


def test_resume_past_the_target_changes_nothing(tmp_path, capsys):
    _, out_dir = run_train(tmp_path, "--data", "spiral", "--epochs", 2, "--no-progress")
    before = open(os.path.join(out_dir, train.CHECKPOINT), "rb").read()
    assert run_train(tmp_path, "--resume", "--epochs", 1, "--data", "spiral")[0] == 0
    assert "nothing to do" in capsys.readouterr().out
    assert open(os.path.join(out_dir, train.CHECKPOINT), "rb").read() == before


def test_resume_errors_exit_2(tmp_path, capsys):
    status, _ = run_train(tmp_path, "--resume", out="empty")
    assert status == 2 and "no checkpoint at" in capsys.readouterr().err
    _, out_dir = run_train(tmp_path, "--data", "spiral", "--epochs", 1, "--no-progress")
    status, _ = run_train(tmp_path, "--resume", "--optimizer", "sgd")
    assert status == 2 and "--optimizer adam, got --optimizer sgd" in capsys.readouterr().err
    path = os.path.join(out_dir, train.CHECKPOINT)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])  # truncated
    status, _ = run_train(tmp_path, "--resume", "--epochs", 2)
    assert status == 2 and path in capsys.readouterr().err


def test_bad_npz_exits_2_naming_the_file(tmp_path, capsys):
    path = save_npz(tmp_path, x=np.zeros((10, 3)), y=np.zeros(9, np.int64))
    status, out_dir = run_train(tmp_path, "--data", path, "--epochs", 1)
    err = capsys.readouterr().err
    assert status == 2 and path in err and "10 samples in x, 9 labels in y" in err
    assert not os.path.exists(os.path.join(out_dir, train.CHECKPOINT))


def test_console_script_exit_status_for_bad_data(tmp_path):
    path = save_npz(tmp_path, x=np.zeros((10, 3)))
    proc = subprocess.run([sys.executable, "-m", "chainrule", "train", "--data", path, "--out",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and path in proc.stderr and "no array named 'y'" in proc.stderr


def test_own_npz_images_train_with_the_cnn(tmp_path):
    status, out_dir = run_train(tmp_path, "--data", bright_top_images(tmp_path), "--model", "cnn",
                                "--epochs", 3, "--lr", 0.01, "--no-progress")
    assert status == 0 and curves(out_dir)[-1][2] >= 0.9
    status, _ = run_train(tmp_path, "--data", bright_top_images(tmp_path, "flat.npz", flat=True),
                          "--model", "cnn", out="flat")
    assert status == 2


def test_nan_in_the_data_stops_in_the_first_epoch_without_a_checkpoint(tmp_path, capsys):
    x, y = datasets.make_spiral()
    x[::7] = np.nan  # lands in the first few batches
    status, out_dir = run_train(tmp_path, "--data", save_npz(tmp_path, x=x, y=y), "--no-progress")
    err = capsys.readouterr().err
    assert status == 1
    assert "loss became nan at epoch 1, step " in err and "this run wrote no checkpoint" in err
    assert not os.path.exists(os.path.join(out_dir, train.CHECKPOINT))
    assert read_metrics(out_dir)["epochs"] == [] and "epoch 1" in read_metrics(out_dir)["stopped"]


def test_huge_learning_rate_stops_with_exit_status_1(tmp_path, capsys):
    status, out_dir = run_train(tmp_path, "--data", "spiral", "--optimizer", "sgd", "--lr", 1e6, "--no-progress")
    assert status == 1
    assert "loss became nan at epoch 1, step " in capsys.readouterr().err
    assert not os.path.exists(os.path.join(out_dir, train.CHECKPOINT))


def test_a_blown_up_parameter_is_named():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    train.check_parameters(model, 1, 5)
    with cr.no_grad():
        model[2].bias.fill_(float("inf"))
    with pytest.raises(train.Diverged, match="parameter 2.bias became NaN/inf at epoch 3, step 7"):
        train.check_parameters(model, 3, 7)


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    _, out_dir = run_train(tmp_path, "--data", "spiral", "--optimizer", "sgd", "--epochs", 1, "--no-progress")
    path = os.path.join(out_dir, train.CHECKPOINT)
    checkpoint = cr.load(path)
    weight = checkpoint["model"]["1.weight"]
    checkpoint["model"]["1.weight"] = cr.full_like(weight, float("inf"))  # as if the weights blew up
    cr.save(checkpoint, path)
    good = open(path, "rb").read()
    status, _ = run_train(tmp_path, "--resume", "--epochs", 3, "--no-progress")
    err = capsys.readouterr().err
    assert status == 1 and "at epoch 2, step 1" in err and f"({path}, epoch 1) is kept" in err
    assert open(path, "rb").read() == good
    assert [e["epoch"] for e in read_metrics(out_dir)["epochs"]] == [1]


# ---- the README's claim (about a second each on one BLAS thread, so it runs with every test run) -----
@pytest.mark.parametrize("model, target", [("mlp", 0.95), ("cnn", 0.97)])
def test_defaults_reach_the_target_accuracy_within_a_minute(tmp_path, model, target):
    began = time.perf_counter()
    status, out_dir = run_train(tmp_path, "--model", model, "--no-progress")
    elapsed = time.perf_counter() - began
    assert status == 0
    assert curves(out_dir)[-1][2] >= target
    assert elapsed < 60


def test_ctrl_c_keeps_finished_epochs_and_says_how_to_resume(tmp_path, capsys, monkeypatch):
    real_epoch = train.train_epoch

    def interrupted_in_epoch_2(*args, **kwargs):
        if args[5] == 2:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)
    monkeypatch.setattr(train, "train_epoch", interrupted_in_epoch_2)
    status, out_dir = run_train(tmp_path, "--data", "spiral", "--epochs", 3, "--no-progress")
    assert status == 130
    assert f"interrupted during epoch 2; continue with --resume --out {out_dir}" in capsys.readouterr().err
    assert cr.load(os.path.join(out_dir, train.CHECKPOINT))["epoch"] == 1
    assert [e["epoch"] for e in read_metrics(out_dir)["epochs"]] == [1]


def test_grad_stats_show_vanishing_gradients_of_a_deep_sigmoid_mlp(tmp_path, capsys):
    out = tmp_path / "deep"
    board = tmp_path / "board"
    assert main(["train", "--model", "mlp", "--activation", "sigmoid", "--depth", "6", "--epochs", "2",
                 "--grad-stats", "--tensorboard", str(board), "--no-progress", "--out", str(out)]) == 0
    record = json.loads((out / "metrics.json").read_text())
    last = record["epochs"][-1]
    norms = list(last["grad_norm"].values())   # inputs first
    assert len(norms) == 7 and all(b > 3 * a for a, b in zip(norms, norms[1:]))   # each layer: vanishing
    assert set(last["saturated"]) == {"2", "4", "6", "8", "10", "12"} and not last["dead_relu"]
    assert all(0.0 <= v <= 1.0 for v in last["saturated"].values())
    assert record["config"]["activation"] == "sigmoid" and record["config"]["depth"] == 6
    assert (out / "grad_stats.png").stat().st_size > 1000
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(board))
    events.Reload()
    assert [e.step for e in events.Scalars("train_loss")] == [1, 2]
    # the architecture is part of the run: resuming with another activation is refused
    assert main(["train", "--model", "mlp", "--activation", "relu", "--resume", "--out", str(out)]) == 2
    assert main(["train", "--model", "cnn", "--depth", "3", "--out", str(tmp_path / "x")]) == 2
    assert "for --model mlp" in capsys.readouterr().err


def test_relu_mlp_reports_dead_units(tmp_path):
    out = tmp_path / "relu"
    assert main(["train", "--epochs", "1", "--grad-stats", "--no-progress", "--out", str(out)]) == 0
    last = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    assert set(last["dead_relu"]) == {"2", "4"} and all(0.0 <= v < 0.5 for v in last["dead_relu"].values())
    assert set(last["grad_norm"]) == {"1", "3", "5"} and not last["saturated"]


def test_distributed_training_equals_one_process_with_the_global_batch(tmp_path):
    """`chainrule launch -n 2 train --distributed --batch-size 16` reaches the weights of one
    process with batch 32 (the same global batches, gradients averaged over the ranks); only
    rank 0 writes; --resume continues the distributed run."""
    pytest.importorskip("mpi4py")
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["train", "--distributed", "--epochs", "2", "--batch-size", "32", "--no-progress",
                 "--out", str(one)]) == 0
    run = subprocess.run([sys.executable, "-m", "chainrule", "launch", "-n", "2", "train", "--distributed", "--epochs",
                          "1", "--batch-size", "16", "--no-progress", "--out", str(two)],
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("epoch   1/1") == 1 and "batch 16 x 2 processes" in run.stdout
    run = subprocess.run([sys.executable, "-m", "chainrule", "launch", "-n", "2", "train", "--distributed", "--epochs",
                          "2", "--resume", "--no-progress", "--out", str(two)], capture_output=True, text=True,
                         timeout=240)
    assert run.returncode == 0, run.stderr
    a, b = cr.load(str(one / train.CHECKPOINT)), cr.load(str(two / train.CHECKPOINT))
    assert a["epoch"] == b["epoch"] == 2
    for k in a["model"]:
        np.testing.assert_allclose(a["model"][k].numpy(), b["model"][k].numpy(), rtol=1e-4, atol=1e-6)
    assert sorted(os.listdir(two)) == [train.CHECKPOINT, train.METRICS, train.PLOT]
