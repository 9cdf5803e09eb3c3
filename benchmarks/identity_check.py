"""Identity check: ``redaction`` in this tree finds exactly what a reference commit's ``redaction`` finds.

    .venv/bin/python benchmarks/identity_check.py [--ref 80c056e] [--seeds 1,2,3,4,5] [--size-mb 1]

The reference package is taken with ``git archive REF redaction`` into a temporary directory and imported as
``redaction_ref``. Both are run over: the development corpus (``corpus(seed, per_cell)`` for every seed), the
speed benchmark's ``log_lines`` and ``card_dense`` generators (every seed), and every string literal in the
repo's redaction tests; for each text ``scan``, ``scan_pans`` and ``contains_card_number`` must agree. Exit
status 1 and the first differing texts on any difference.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import io
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(_ROOT))

import redaction
from benchmarks.redaction import card_dense, log_lines
from benchmarks.redaction_corpus import corpus

_IMPORT = re.compile(r"\b(from|import) redaction\b")


def load_reference(ref: str, into: Path) -> ModuleType:
    """``redaction`` as of ``ref``, importable as ``redaction_ref`` (its own imports rewritten)."""
    blob = subprocess.run(["git", "archive", ref, "redaction"], cwd=_ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    pkg = into / "redaction"
    for path in pkg.glob("*.py"):
        path.write_text(_IMPORT.sub(r"\1 redaction_ref", path.read_text()))
    pkg.rename(into / "redaction_ref")
    sys.path.insert(0, str(into))
    return importlib.import_module("redaction_ref")


def test_texts() -> Iterator[str]:
    """Every string literal in the redaction tests (inputs, expected outputs, fragments alike)."""
    for path in sorted((_ROOT / "tests" / "redaction").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value


def sources(seeds: list[int], size: int, per_cell: int) -> Iterator[tuple[str, Iterable[str]]]:
    yield "redaction tests' string literals", list(test_texts())
    for seed in seeds:
        yield f"development corpus seed {seed}", [s.text for s in corpus(seed, per_cell)]
        rng = random.Random(seed)
        yield f"card_dense seed {seed}", [s.text for s in card_dense(rng, size)]
        yield f"log_lines seed {seed}", log_lines(rng, size)


def _findings(scan: Callable[[str], list[object]], text: str) -> list[tuple[object, ...]]:
    return [(f.start, f.end, f.kind, f.brand, f.last4) for f in scan(text)]  # type: ignore[attr-defined]


def compare(ref: ModuleType, texts: Iterable[str]) -> tuple[int, list[str]]:
    n = 0
    bad: list[str] = []
    for text in texts:
        n += 1
        same = (
            _findings(redaction.scan, text) == _findings(ref.scan, text)
            and _findings(redaction._engine.scan_pans, text) == _findings(ref._engine.scan_pans, text)
            and redaction.contains_card_number(text) == ref.contains_card_number(text)
        )
        if not same:
            bad.append(text)
    return n, bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--ref", default="80c056e", help="reference commit (default: 80c056e)")
    ap.add_argument("--seeds", default="1,2,3,4,5,7", help="comma-separated seeds for corpus and generators")
    ap.add_argument("--size-mb", type=float, default=1.0, help="size of each generated corpus per seed")
    ap.add_argument("--per-cell", type=int, default=20)
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    failed = False
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        ref = load_reference(args.ref, Path(tmp))
        for name, texts in sources(seeds, int(args.size_mb * 1_000_000), args.per_cell):
            n, bad = compare(ref, texts)
            total += n
            print(f"{name}: {n} texts, {len(bad)} different")
            for text in bad[:5]:
                print(f"  DIFFERENT: {text!r}")
                print(f"    ours: {_findings(redaction.scan, text)}")
                print(f"    ref:  {_findings(ref.scan, text)}")
            failed = failed or bool(bad)
    print(f"{'FAILED' if failed else 'identical'}: {total} texts against {args.ref}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
