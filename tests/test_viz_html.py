"""The interactive backward-pass page: one self-contained file, escaped names, and (in a headless
Chromium, when chromium and chromedriver are installed) Next/Back stepping that shows explain's numbers."""
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

import chainrule as cr
from conftest import skip_unless_ci
from chainrule.cli import main
from chainrule.viz.graph import describe

EVIL_MODULE = '<svg onload="alert(3)">&lt;'  # module names may not hold dots
EVIL = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2">&amp;"\''


def scalars(**values):
    return {k: cr.tensor(v, dtype=cr.float64, requires_grad=True) for k, v in values.items()}


def add_mul():
    v = scalars(x=-2, y=5, z=-4)
    q = v["x"] + v["y"]
    return cr.viz.explain(q * v["z"], names=dict(v, q=q))


def sigmoid_gate():
    v = scalars(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    return cr.viz.explain(1 / (1 + (-(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"])).exp()), names=v)


def apples():
    v = scalars(apple=10, apples=2, melon=30, melons=1, tax=1.05)
    return cr.viz.explain((v["apple"] * v["apples"] + v["melon"] * v["melons"]) * v["tax"], names=v)


def branches():
    a = scalars(a=3.0)["a"]
    c = a.exp()
    return cr.viz.explain(c * a + c, names={"a": a, "c": c})


def mlp():
    nn = cr.nn
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with cr.viz.record_modules(model) as mods:
        loss = nn.functional.cross_entropy(model(cr.randn(5, 3)), cr.tensor([0, 1, 0, 1, 1]))
    return cr.viz.explain(loss, modules=mods)


def hostile():
    x = cr.tensor(2.0, requires_grad=True)
    nn = cr.nn
    model = nn.Sequential()
    model.add_module(EVIL_MODULE, nn.Linear(1, 1))
    with cr.viz.record_modules(model) as mods:
        out = model(x.reshape(1, 1)).sum() * x
    return cr.viz.explain(out, names={EVIL: x}, modules=mods)


CASES = {"add_mul": add_mul, "sigmoid": sigmoid_gate, "apples": apples, "branches": branches, "mlp": mlp,
         "hostile": hostile}


def page_json(text):
    m = re.search(r'<script type="application/json" id="cr-data">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


@pytest.mark.parametrize("case", sorted(CASES))
def test_page_is_self_contained_and_holds_every_step(case, tmp_path):
    e = CASES[case]()
    path = tmp_path / f"{case}.html"
    text = e.to_html(path)
    assert path.read_text(encoding="utf-8") == text
    assert text.count("<script") == 2 and text.count("</script>") == 2  # the data and the code, nothing else
    # names are escaped, so these are the page's own tags (attribute values blanked)
    tags = [re.sub(r'"[^"]*"', '""', t) for t in re.findall(r"<[a-zA-Z][^>]*>", text)]
    assert not [t for t in tags if re.search(r"^<(link|iframe|img|object|embed)\b|\b(src|href|on\w+)\s*=", t)]
    assert "@import" not in text and "url(http" not in text
    assert "https://" not in text and set(re.findall(r"http://[^\"' ]+", text)) <= {"http://www.w3.org/2000/svg"}
    data = page_json(text)
    assert [s["name"] for s in data["steps"]] == [s.name for s in e.steps]
    for s, d in zip(e.steps, data["steps"]):
        assert d["upstream"] == describe(s.upstream, True)
        assert [i["down"] for i in d["inputs"]] == ["-" if g is None else describe(g, True) for g in s.downstream]
        assert f'id="node-{d["box"]}"' in text
        for i in d["inputs"]:
            assert i["edge"] is None or f'id="{i["edge"]}"' in text


def test_page_sums_and_leaf_totals():
    e = branches()
    data = page_json(e.to_html())
    c = next(d for d in data["steps"] if d["name"] == "c")
    assert c["sum"] and c["sum"].endswith(f"= {describe(e.grad('c'), True)}") and " + " in c["sum"]
    last_grad = {}
    for d in data["steps"]:
        last_grad.update(d["grads"])
    a_box = re.search(r'id="node-(l\d+)" data-name="a"', e.to_html()).group(1)
    assert last_grad[a_box] == describe(e.leaf_grads["a"], True)


def test_page_escapes_hostile_names():
    text = hostile().to_html()
    assert "window.pwned=1</script>" not in text and "<img src=x" not in text
    assert "&lt;/script&gt;&lt;script&gt;window.pwned=1" in text  # shown, as text
    assert '<svg onload' not in text and "&lt;svg onload=&quot;alert(3)&quot;&gt;&amp;lt; (Linear)" in text
    data = page_json(text)
    assert any(EVIL in i["name"] for d in data["steps"] for i in d["inputs"])


def test_page_errors_and_huge_graphs(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        add_mul().to_html(tmp_path / "no" / "page.html")
    monkeypatch.setattr(sys.modules["chainrule.viz.graph"], "MAX_DRAWN", 6)
    with pytest.raises(ValueError, match="too many to draw"):
        sigmoid_gate().to_html()
    with pytest.warns(UserWarning, match="collapsed to depth=1"):
        data = page_json(mlp().to_html())  # steps inside a module highlight the module's box
    assert {s["box"] for s in data["steps"]} >= {"m0", "m1", "m2"}


def test_cli_html(capsys, tmp_path):
    out = tmp_path / "page.html"
    code = main(["explain", "(x + y) * z", "x=-2", "y=5", "z=-4", "--html", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "step-through page saved" in printed
    data = page_json(out.read_text())
    assert [s["name"] for s in data["steps"]] == ["f", "q"] and data["steps"][1]["upstream"] == "-4"
    assert main(["explain", "x * y", "x=1", "y=2", "--html", str(tmp_path / "no" / "p.html")]) == 1
    assert "does not exist" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------------------------

def _browser_paths():
    chrome = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    return chrome, shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    chrome, driver_path = _browser_paths()
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if chrome is None or driver_path is None:
        skip_unless_ci("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900"):
        options.add_argument(arg)
    options.binary_location = chrome
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


STATE = """
var cur = document.querySelectorAll('.node.current');
var rows = Array.from(document.querySelectorAll('#inputs tbody tr')).map(function (tr) {
  return Array.from(tr.children).map(function (td) { return td.textContent; }); });
var labels = {};
document.querySelectorAll('.edge').forEach(function (g) {
  labels[g.id] = g.querySelector('.edge-label').textContent; });
return {counter: document.getElementById('counter').textContent,
        current: Array.from(cur).map(function (n) { return n.getAttribute('data-name'); }),
        upstream: document.getElementById('upstream').textContent,
        sum: document.getElementById('sum').textContent,
        rule: document.getElementById('rule').textContent,
        rows: rows, labels: labels, pwned: window.pwned === undefined ? null : window.pwned,
        final: Array.from(document.querySelectorAll('#final li')).map(function (li) { return li.textContent; })};
"""


@pytest.mark.parametrize("case", ["add_mul", "sigmoid", "apples", "mlp", "hostile"])
def test_browser_steps_through_the_backward_pass(browser, case, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    e = CASES[case]()
    path = tmp_path / "page.html"
    e.to_html(path)
    browser.get(Path(path).as_uri())
    n = len(e.steps)
    state = browser.execute_script(STATE)
    assert state["counter"] == f"step 0 / {n}" and state["current"] == [] and not any(state["labels"].values())
    _, rows = e.rows()
    starts = [i for i, r in enumerate(rows) if r[0]]
    data = page_json(path.read_text())
    body = browser.find_element(By.TAG_NAME, "body")
    for k, step in enumerate(e.steps, 1):
        if k % 2:
            browser.find_element(By.ID, "next").click()
        else:
            body.send_keys(Keys.ARROW_RIGHT)
        state = browser.execute_script(STATE)
        assert state["counter"] == f"step {k} / {n}"
        assert state["current"] == [step.name]           # the highlighted node is this step's node
        table = rows[starts[k - 1]:starts[k] if k < n else None]
        assert state["upstream"] == table[0][3] == describe(step.upstream, True)
        assert state["rule"] == step.rule
        assert bool(state["sum"]) == bool(step.summed_from)
        assert [r[0] for r in state["rows"]] == [r[4] for r in table] == step.inputs
        for shown, r, loc, down in zip(state["rows"], table, step.local, step.downstream):
            assert shown[1].startswith(r[5].rstrip(".")) if isinstance(loc, str) else shown[1] == r[5]
            if down is not None:
                assert shown[2].endswith(r[6]) and r[6] == describe(down, True)
            if loc is not None and not isinstance(loc, str):  # numbers: upstream x local = downstream
                assert shown[2] == f"{r[3] if r[3] else table[0][3]} \u00d7 {r[5]} = {r[6]}"
        for inp in data["steps"][k - 1]["inputs"]:  # the downstream gradients written onto the edges
            if inp["edge"] and inp["down"] != "-":
                assert inp["down"] in state["labels"][inp["edge"]].split(" + ")
        assert state["pwned"] is None
    assert state["final"] == e.leaf_lines()
    body.send_keys(Keys.ARROW_LEFT)
    assert browser.execute_script(STATE)["counter"] == f"step {n - 1} / {n}"
    browser.find_element(By.ID, "back").click()
    assert browser.execute_script(STATE)["counter"] == f"step {max(n - 2, 0)} / {n}"
    if case == "add_mul":
        final = dict(line.split(" = ", 1) for line in state["final"])
        assert final == {"df/dx": "-4", "df/dy": "-4", "df/dz": "3"}
