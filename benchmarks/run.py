"""formgen's speed and memory, measured side by side with the usual tools.

Run from the repository root:

    python benchmarks/run.py                 # the full suite (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick         # small N: checks that everything runs (the tests use it)

Every measurement runs a fresh child process and times it from start to exit, so
interpreter start-up, imports and data loading count against formgen as much as
against the baselines.  Peak memory is the child's own ``ru_maxrss`` from
``os.wait4`` (its workers included).  The table of ratios is printed and written
with the machine's description to ``benchmarks/RESULTS.md`` (``--results`` to
change).  Outputs go to a scratch folder that is removed afterwards; formgen's modules
are compiled before the first measurement, as an installation has them (`child_env`).  formgen runs
with its default ``--jobs 1`` everywhere but the ``--jobs 2`` row: one process, as
the docxtpl loop and LibreOffice.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's formgen, not an installed one

from benchmarks import synth  # noqa: E402

EDITION = "henan-2024"
YIDI = "henan-yidi-jiuyi-beian-biao"  # 表7
ROSTER = "zhigong-canbao-dengji-biao"  # 表2
BUILT_IN_EDITIONS = ["henan-2024", "henan-flowcharts", "puyang", "wolong", "yunnan"]


@dataclass
class Run:
    seconds: float
    peak_mb: float
    output: str


@dataclass
class Row:
    measure: str
    formgen: str
    baseline: str
    ratio: float | None = None
    target: float | None = None
    note: str = ""

    def cells(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.1f}×"
        target = "" if self.target is None else f"≥ {self.target:g}×"
        verdict = "" if self.ratio is None or self.target is None else ("met" if self.ratio >= self.target else "MISSED")
        return [self.measure, self.formgen, self.baseline, ratio, target, verdict, self.note]


HEADERS = ["measure", "formgen", "baseline", "ratio", "target", "", "notes"]


# --------------------------------------------------------------------------
# Running children
# --------------------------------------------------------------------------
def run(command: list[str], cwd: Path = ROOT) -> Run:
    """Run ``command`` to completion: wall time and peak RSS (MB) of it and its waited-for children."""
    env = child_env()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({child.returncode}):\n{output[-2000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, output)


def best(kept: "Run | None", new: Run) -> Run:
    """The faster of two runs of the same thing (the machine may be shared)."""
    return new if kept is None or new.seconds < kept.seconds else kept


def child_env() -> dict[str, str]:
    """This checkout's formgen, with its modules compiled as an installation has them.

    pip compiles an installed package's modules; a sandbox that sets PYTHONDONTWRITEBYTECODE
    would charge every start of this checkout with compiling formgen's modules again (about
    0.1 s).  They are compiled once (`Bench`) into __pycache__ (ignored by git), like every
    installed library's.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def formgen(*args) -> list[str]:
    return [sys.executable, "-m", "formgen", *map(str, args)]


def fill(form: str, data: Path, fmt: str, outdir: Path, *extra) -> Run:
    return run(formgen("fill", form, data, "--format", fmt, "--edition", EDITION, "-o", outdir, *extra))


def files(folder: Path, suffix: str) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == suffix)


# --------------------------------------------------------------------------
# The measurements
SCRATCH_ROOM = 8 * 2**30  # the 100,000-record memory step writes about 4 GB


def default_scratch() -> Path | None:
    """/dev/shm (memory) when it has room, else the temp folder (None).

    Both sides of every row write there.  On ext4, creating a file costs about 1 ms instead of
    0.1 ms for minutes after thousands were deleted nearby (a test run, an earlier benchmark),
    and that cost is serial: it is the same for any tool, yet it decided the --jobs row (1.5x,
    where a fresh folder on the same disk gives 1.9x) and moved the PDF row by a third.  In
    memory, the figures are the programs' own.  ``--scratch`` measures a disk of your choice.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= SCRATCH_ROOM:
        return shm
    return None


def file_system(path: Path) -> str:
    """The type of the file system holding ``path`` (from /proc/mounts), or "unknown"."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    path = str(path.resolve())
    best = max((m for m in mounts if path == m[0] or path.startswith(m[0].rstrip("/") + "/")),
               key=lambda m: len(m[0]), default=None)
    return best[1] if best else "unknown"


# --------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        if args.scratch is None:
            args.scratch = default_scratch()
        if args.scratch is not None:
            args.scratch.mkdir(parents=True, exist_ok=True)
        self.scratch = Path(tempfile.mkdtemp(prefix="formgen-bench-", dir=args.scratch))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "formgen"), str(ROOT / "benchmarks")],
                       cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, check=True)  # as pip does (not timed)
        self.rows: list[Row] = []
        self.yidi_csv = synth.write_csv(self.scratch / "yidi.csv", synth.YIDI_COLUMNS, synth.yidi_rows(args.records))

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(" | ".join(c for c in row.cells() if c), flush=True)

    def clean(self, *folders: Path, now: bool = False) -> None:
        """Outputs are deleted when the run ends (``now``: at once, for the memory step's
        100,000 files).  Deleting thousands of files just before the next measurement would
        charge it for them: ext4 then scans for a free inode that was not recently deleted
        on every file it creates (``recently_deleted`` in the kernel), several times slower."""
        if now:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)

    # -- 表7 to Word against a docxtpl loop ----------------------------------------
    def docx(self) -> None:
        n = self.args.records
        ours, theirs = self.scratch / "docx-formgen", self.scratch / "docx-docxtpl"
        fast = fill(YIDI, self.yidi_csv, "docx", ours)
        template, contexts = self.docxtpl_inputs()
        slow = run([sys.executable, str(ROOT / "benchmarks" / "docxtpl_loop.py"), template, contexts, theirs])
        same = same_text(files(ours, ".docx"), files(theirs, ".docx"))
        self.add(Row(f"表7 → DOCX, {n} records", f"{fast.seconds:.2f} s ({n / fast.seconds:.0f}/s)",
                     f"docxtpl loop {slow.seconds:.2f} s ({n / slow.seconds:.0f}/s)",
                     slow.seconds / fast.seconds, 10, "same text: " + same))
        self.docx_outputs = theirs
        self.clean(ours)

    def docxtpl_inputs(self) -> tuple[Path, Path]:
        """The template formgen uses and one render context per record (formgen's own, not timed)."""
        from formgen.check import open_library
        from formgen.fill import build_records
        from formgen.inputs import read_table
        from formgen.layout import pages
        from formgen.writers import docx

        library = open_library(None)
        edition = library.edition(EDITION)
        form = library.forms[YIDI]
        writer = docx.FormWriter(form, edition)
        contexts = self.scratch / "contexts.jsonl"
        with open(contexts, "w", encoding="utf-8") as out:
            for record in build_records(form, read_table(self.yidi_csv)).records:
                out.write(json.dumps(writer.context(pages(form, record)[0]), ensure_ascii=False) + "\n")
        return docx.template_path(form, edition), contexts

    # -- 表7 to PDF against LibreOffice ---------------------------------------------
    def pdf(self) -> None:
        """Each side runs ``--repeat`` times, alternately; the fastest run of each counts."""
        n = self.args.records
        label = f"表7 → PDF, {n} records"
        sample = min(self.args.soffice_records, n)
        office = shutil.which("soffice") and sample > 0
        if office:
            chosen = self.scratch / "soffice-in"
            chosen.mkdir()
            for path in files(self.docx_outputs, ".docx")[:sample]:
                shutil.copy(path, chosen / path.name)
            profile = self.scratch / "soffice-profile"  # its own profile: never disturbs a running office
        fast = slow = None
        for attempt in range(self.args.repeat):
            ours = self.scratch / f"pdf-formgen-{attempt}"
            fast = best(fast, fill(YIDI, self.yidi_csv, "pdf", ours))
            pages = count_pages(files(ours, ".pdf"))
            if office:
                converted = self.scratch / f"soffice-out-{attempt}"
                slow = best(slow, run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                                       "--norestore", "--convert-to", "pdf", "--outdir", converted,
                                       *files(chosen, ".docx")]))
                their_pages = count_pages(files(converted, ".pdf"))
        rate = pages / fast.seconds
        if not office:
            self.add(Row(label, f"{rate:.0f} pages/s", "LibreOffice: not run" if sample == 0 else
                         "LibreOffice: not installed"))
            return
        their_rate = their_pages / slow.seconds
        same = same_pdf_text(files(ours, ".pdf")[:sample], files(converted, ".pdf"))  # both in record order
        self.add(Row(label, f"{rate:.0f} pages/s ({pages} pages in {fast.seconds:.2f} s)",
                     f"LibreOffice {their_rate:.1f} pages/s ({their_pages} pages of {sample} records "
                     f"in {slow.seconds:.1f} s)", rate / their_rate, 100,
                     f"one process each (formgen's default --jobs 1); best of {self.args.repeat}; "
                     f"same characters: {same}"))

    # -- 表2 roster to Excel ----------------------------------------------------
    def roster(self) -> None:
        people = self.args.roster
        data = synth.write_csv(self.scratch / "roster.csv", synth.ROSTER_COLUMNS,
                               synth.roster_rows(people, per_unit=people))
        out = self.scratch / "xlsx"
        result = fill(ROSTER, data, "xlsx", out)
        sheets = count_sheets(files(out, ".xlsx"))
        self.add(Row(f"表2 roster → XLSX, {people} people of one unit",
                     f"{result.seconds:.2f} s ({people / result.seconds:.0f} people/s, {sheets} sheets)",
                     "", note=f"peak {result.peak_mb:.0f} MB"))
        self.clean(out)

    # -- formgen build -----------------------------------------------------------
    def build(self) -> None:
        probe = subprocess.run(formgen("build", "--help"), cwd=ROOT, capture_output=True, text=True,
                               env=child_env())
        if probe.returncode != 0:
            self.add(Row("formgen build (each built-in edition)", "not available", ""))
            return
        for edition in BUILT_IN_EDITIONS:
            out = self.scratch / f"build-{edition}"
            try:
                result = run(formgen("build", edition, "-o", out))
            except RuntimeError as err:
                self.add(Row(f"formgen build {edition}", "failed", "", note=str(err).splitlines()[-1][:120]))
                continue
            made = sum(1 for p in out.rglob("*") if p.is_file()) if out.exists() else 0
            self.add(Row(f"formgen build {edition}", f"{result.seconds:.2f} s ({made} files)", ""))
            self.clean(out)

    # -- memory: 10× the records in no more memory -----------------------------------
    def memory(self) -> None:
        small, large = self.args.memory
        fmt = self.args.memory_format
        peaks = []
        for count in (small, large):
            data = synth.write_csv(self.scratch / f"memory-{count}.csv", synth.YIDI_COLUMNS, synth.yidi_rows(count))
            out = self.scratch / f"memory-{count}"
            result = fill(YIDI, data, fmt, out)
            written = len(files(out, f".{fmt}"))
            if written != count:
                raise RuntimeError(f"memory run wrote {written} files for {count} records")
            peaks.append((result.peak_mb, result.seconds))
            self.clean(out, now=True)
            data.unlink()
        (small_mb, small_s), (large_mb, large_s) = peaks
        growth = large_mb / small_mb
        self.add(Row(f"peak memory, 表7 → {fmt.upper()}, {small} vs {large} records",
                     f"{large_mb:.0f} MB for {large} ({large_s:.0f} s)", f"{small_mb:.0f} MB for {small} ({small_s:.0f} s)",
                     None, None, f"growth {growth:.2f}× (limit 1.3×): {'met' if growth <= 1.3 else 'MISSED'}"))

    # -- --jobs 2 against --jobs 1 -------------------------------------------------
    def jobs(self) -> None:
        n = self.args.jobs_records
        fmt = self.args.jobs_format
        data = synth.write_csv(self.scratch / "jobs.csv", synth.YIDI_COLUMNS, synth.yidi_rows(n, seed=7))
        times = {1: float("inf"), 2: float("inf")}
        for attempt in range(self.args.repeat):  # alternately; the fastest run of each counts
            for jobs in (1, 2):
                out = self.scratch / f"jobs-{jobs}-{attempt}"
                times[jobs] = min(times[jobs], fill(YIDI, data, fmt, out, "--jobs", jobs).seconds)
        ceiling = two_process_ceiling(1_000_000 if self.args.quick else 10_000_000)
        self.add(Row(f"表7 → {fmt.upper()}, {n} records, --jobs 2", f"{times[2]:.2f} s",
                     f"--jobs 1: {times[1]:.2f} s", times[1] / times[2], 1.7,
                     f"{os.cpu_count()} CPUs; best of {self.args.repeat}; this machine's own ceiling, "
                     f"two copies of a pure-Python loop against one: {ceiling:.2f}×"))

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def two_process_ceiling(loops: int = 10_000_000) -> float:
    """How much faster two processes get a CPU-bound job done than one, on this machine.

    Two copies of a plain Python loop run at once against one run alone (the fastest of two
    tries each): 2.0 on two idle cores; less when the cores share a physical core or the
    host is busy.  No program can beat it, so it is printed next to the --jobs 2 ratio.
    """
    code = f"x = 0\nfor i in range({loops}): x += i * i % 7"
    alone = together = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        alone = min(alone, time.perf_counter() - started)
        started = time.perf_counter()
        pair = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
        for child in pair:
            child.wait()
        together = min(together, time.perf_counter() - started)
    return 2 * alone / together


# --------------------------------------------------------------------------
# Checking outputs
# --------------------------------------------------------------------------
def docx_text(path: Path) -> str:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    document = Document(str(path))
    return "\n".join(Paragraph(p, document).text for p in document.element.body.iter(qn("w:p")))


def same_text(ours: list[Path], theirs: list[Path]) -> str:
    """Whether formgen's and docxtpl's documents read the same (first, middle and last record)."""
    if len(ours) != len(theirs):
        return f"no ({len(ours)} vs {len(theirs)} files)"
    picks = sorted({0, len(ours) // 2, len(ours) - 1})
    differ = [i + 1 for i in picks if docx_text(ours[i]) != docx_text(theirs[i])]
    return "yes" if not differ else f"NO (records {differ})"


def pdf_characters(path: Path) -> collections.Counter:
    text = subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True, text=True).stdout
    return collections.Counter(unicodedata.normalize("NFKC", "".join(text.split())))


def same_pdf_text(ours: list[Path], theirs: list[Path]) -> str:
    """Whether formgen's PDF and LibreOffice's PDF of the same record hold the same characters,
    each as often (first, middle and last record; the two lay the cells out differently, so
    pdftotext reads them in different orders)."""
    if not shutil.which("pdftotext"):
        return "not checked (no pdftotext)"
    if not theirs or len(ours) != len(theirs):
        return f"no ({len(ours)} vs {len(theirs)} files)"
    picks = sorted({0, len(theirs) // 2, len(theirs) - 1})
    differ = [i + 1 for i in picks if pdf_characters(ours[i]) != pdf_characters(theirs[i])]
    return "yes" if not differ else f"NO (records {differ})"


def count_pages(paths: list[Path]) -> int:
    from pypdf import PdfReader
    return sum(len(PdfReader(p).pages) for p in paths)


def count_sheets(paths: list[Path]) -> int:
    from openpyxl import load_workbook
    return sum(len(load_workbook(p, read_only=True).sheetnames) for p in paths)


# --------------------------------------------------------------------------
# The machine and the report
# --------------------------------------------------------------------------
LOAD_AT_START = os.getloadavg()  # the machine may be shared: the load is part of the result


def machine() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal")), 0)
    libraries = []
    for name in ("docxtpl", "python-docx", "Jinja2", "lxml", "fpdf2", "fonttools", "pypdf", "openpyxl",
                 "python-stdnum"):
        try:
            libraries.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            libraries.append(f"{name} (not installed)")
    office = "not installed"
    if shutil.which("soffice"):
        office = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout.strip() or "installed"
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    start = ", ".join(f"{v:.2f}" for v in LOAD_AT_START)
    return [f"- CPU: {cpu}, {os.cpu_count()} logical cores",
            f"- RAM: {mem_kb / 1024 / 1024:.1f} GiB",
            f"- OS: {platform.platform()}",
            f"- Python {platform.python_version()} ({platform.python_implementation()})",
            f"- Libraries: {', '.join(libraries)}",
            f"- LibreOffice: {office}",
            f"- Load average (1, 5, 15 min) when the run started: {start}; when it ended: {load}"]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def table(rows: list[Row]) -> list[str]:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row.cells()) + " |" for row in rows]
    return lines


def report(args, rows: list[Row], started: float, scratch: Path) -> str:
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    return "\n".join([
        "# Benchmark results", "",
        f"`{command.strip()}`, {time.strftime('%Y-%m-%d %H:%M')}, {time.perf_counter() - started:.0f} s in all.",
        "Each figure is one fresh process from start to exit (start-up and data loading included).",
        f"Every output was written under {scratch.parent} ({file_system(scratch.parent)}).", "",
        *table(rows), "",
        "## Machine", "", *machine(), ""])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2000, help="表7 records for the DOCX and PDF runs")
    parser.add_argument("--soffice-records", type=int, default=60,
                        help="how many of those LibreOffice converts (it is slow); 0 to skip it")
    parser.add_argument("--roster", type=int, default=10000, help="people on the 表2 roster")
    parser.add_argument("--memory", type=int, nargs=2, default=[10000, 100000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--memory-format", default="docx", choices=["docx", "pdf", "xlsx"])
    parser.add_argument("--jobs-records", type=int, default=10000,
                        help="records for the --jobs row: a batch of the size the issue speaks of (tens of thousands)")
    parser.add_argument("--jobs-format", default="pdf", choices=["docx", "pdf", "xlsx"])
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each side of the PDF and --jobs rows, alternately; the fastest counts")
    parser.add_argument("--no-build", action="store_true", help="skip `formgen build`")
    parser.add_argument("--only", default="", help="comma-separated steps: docx,pdf,roster,memory,jobs,build")
    parser.add_argument("--quick", action="store_true", help="small numbers: only checks that it all runs")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="folder for outputs (default: /dev/shm when it has 8 GB free, else the temp folder)")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.soffice_records, args.roster = 6, 0, 20
        args.memory, args.jobs_records, args.repeat = [10, 30], 8, 1
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    bench = Bench(args)
    try:
        # The memory step, which writes and deletes 110,000 files, comes last: ext4 creates files
        # several times slower for minutes after mass deletes (see `Bench.clean`), which would
        # slow whatever ran next, and overlap in --jobs 2 what it slows in --jobs 1.
        steps = ["docx", "pdf", "roster", "jobs"] + ([] if args.no_build else ["build"]) + ["memory"]
        chosen = [s for s in args.only.split(",") if s] or steps
        for name in steps:
            if name in chosen or (name == "docx" and "pdf" in chosen):  # the PDF row converts its DOCX
                getattr(bench, name)()
    finally:
        bench.close()
    text = report(args, bench.rows, started, bench.scratch)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text, encoding="utf-8")
    print()
    print("\n".join(table(bench.rows)))
    print(f"\nwritten to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
