"""The baseline: a plain docxtpl loop, as a clerk's script would fill a form.

``python benchmarks/docxtpl_loop.py TEMPLATE CONTEXTS.jsonl OUTDIR``: for every
line of CONTEXTS (one JSON render context per record, prepared by the harness
from the same validated records formgen fills), a fresh ``DocxTemplate`` of the
same template file is opened, rendered with autoescape and saved.  Preparing the
contexts is not timed, so the baseline does no validation: generous to it.
"""
import json
import sys
from pathlib import Path

from docxtpl import DocxTemplate


def main(template: str, contexts: str, outdir: str) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with open(contexts, encoding="utf-8") as lines:
        for index, line in enumerate(lines, 1):
            document = DocxTemplate(template)
            document.render(json.loads(line), autoescape=True)
            document.save(str(out / f"record-{index:06d}.docx"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
