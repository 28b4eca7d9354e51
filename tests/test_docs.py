"""The documentation: every public name has a docstring (against docs/missing_docstrings.txt, which
only shrinks), the site builds with warnings as errors while running every tutorial, and every
internal link of the built site points at a page and an anchor that exist.

The build needs the docs extra (``pip install -e '.[docs]'``); without it those tests are skipped.
The build command, as CI and a reader run it:

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))

import check_docstrings  # noqa: E402

TUTORIALS = sorted(p.stem for p in (DOCS / "tutorials_src").glob("*.py"))


def test_every_public_name_has_a_docstring_or_is_a_known_gap(capsys):
    rc = check_docstrings.main(["--baseline", str(DOCS / "missing_docstrings.txt")])
    assert rc == 0, capsys.readouterr().out


def test_docstring_check_fails_on_a_name_without_docstring(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(check_docstrings, "NAMESPACES", ("chainrule.viz",))
    monkeypatch.setattr(check_docstrings, "public_names", lambda ns: [("graph", lambda: None), ("explain", len)])
    assert check_docstrings.main([]) == 1
    out = capsys.readouterr().out
    assert "chainrule.viz: 1 of 2 public names without a docstring" in out and "graph" in out
    (tmp_path / "base.txt").write_text("chainrule.viz.graph\nchainrule.viz.gone\n")
    assert check_docstrings.main(["--baseline", str(tmp_path / "base.txt")]) == 1
    assert "now have a docstring or are gone" in capsys.readouterr().out


def test_plain_text_math_is_escaped_and_kept_valid():
    lines = ["|x| * |y|, ``a*b`` and *emph*, add_ and x_1", "Example::", "", "    a * |b|", "", "back"]
    fixed = check_docstrings.escape_plain(lines)
    assert fixed[0] == r"\|x\| \* \|y\|, ``a*b`` and *emph*, add\_ and x_1"
    assert fixed[3] == "    a * |b|"                         # literal blocks are left alone
    assert check_docstrings.rst_problems("\n".join(fixed)) == []
    assert check_docstrings.rst_problems("a |x| b")              # unescaped, docutils complains


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag in ("img", "script", "link") and (attrs.get("src") or attrs.get("href")):
            self.hrefs.append(attrs.get("src") or attrs.get("href"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "html"
    env = dict(os.environ, CHAINRULE_DOCS_RERUN="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E", "-b", "html",
                           str(DOCS), str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def test_site_builds_with_warnings_as_errors(site):
    for page in ["index", "overview", "api/index", "api/cli", "tutorials/index", "performance", "distributed"]:
        assert (site / f"{page}.html").is_file(), page
    for ns in check_docstrings.NAMESPACES:
        page = {"chainrule": "chainrule", "chainrule.Tensor": "tensor", "chainrule.nn.utils": "nn_utils",
                "chainrule.nn.functional": "functional", "chainrule.nn.init": "init",
                "chainrule.optim.lr_scheduler": "lr_scheduler", "chainrule.utils.data": "data"}.get(
                    ns, ns.rsplit(".", 1)[-1])
        text = (site / "api" / f"{page}.html").read_text()
        assert "where-chainrule-differs-from-pytorch" in text, page
        for name, _ in check_docstrings.public_names(ns)[:5]:
            assert f"{ns}.{name}" in text, (page, name)
    cli = (site / "api" / "cli.html").read_text()
    for sub in ("train", "explain", "export", "launch"):
        assert f"chainrule {sub}" in cli
    assert "--grad-stats" in cli


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_ran_during_the_build(site, name):
    text = (site / "tutorials" / f"{name}.html").read_text()
    assert "sphx-glr-script-out" in text                    # printed output captured from the run
    assert "<svg" in text or "sphx_glr_" + name in text       # a viz picture or a generated plot
    if name.startswith("t3") or name.startswith("t4"):
        assert list((site / "_images").glob(f"sphx_glr_{name}_00*.png"))


def test_internal_links_resolve(site):
    pages = {p: None for p in site.rglob("*.html")}
    broken = []
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(errors="replace"))
        pages[page] = parser
    for page, parser in pages.items():
        for href in parser.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {href} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                if target not in pages:
                    pages[target] = _Links()
                    pages[target].feed(target.read_text(errors="replace"))
                if unquote(parts.fragment) not in pages[target].ids:
                    broken.append(f"{page.relative_to(site)}: {href} (no such anchor)")
    assert not broken, "\n".join(sorted(set(broken))[:50])
