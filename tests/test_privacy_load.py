"""The redactor loads spaCy and Presidio without torch (thinc and transformers would import it:
seconds and ~300 MB in every crawl, import and privacy worker), finds the same personal data as
when torch is loaded, and torch still works in the process after."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LABELLED = Path(__file__).parent / "fixtures" / "pii" / "labelled.jsonl"

REDACT = """
import json, sys
{before}
from radar.core.pii import Redactor
texts = [json.loads(line)["text"] for line in open({path!r}, encoding="utf-8")][:150]
found = Redactor.get().find_many(texts)
print(json.dumps({{"torch": "torch" in sys.modules,
                   "findings": [[[f.entity, f.start, f.end] for f in fs] for fs in found]}}))
import torch
print(torch.ones(3).sum().item())
"""


def _redact(before: str = "") -> tuple[dict, str]:
    out = subprocess.run([sys.executable, "-c", REDACT.format(before=before, path=str(LABELLED))],
                         capture_output=True, text=True, timeout=300, check=True)
    lines = out.stdout.strip().splitlines()
    return json.loads(lines[-2]), lines[-1]


def test_redactor_loads_without_torch_and_finds_what_it_finds_with_torch():
    light, after = _redact()
    assert light["torch"] is False
    assert after == "3.0"  # torch imports and runs in the same process afterwards
    # transformers imported first (as the torch embedder does): torch cannot be hidden from
    # it any more, so the redactor loads as it always did, torch included.
    heavy, _ = _redact("import transformers")
    assert heavy["torch"] is True
    assert light["findings"] == heavy["findings"]
    assert sum(map(len, light["findings"])) > 150  # the labelled comments carry many
