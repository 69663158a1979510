"""``fill --jobs N``: a batch checked and written by N worker processes.

The workers are forked once everything is loaded (the library, the writer with its
fonts and compiled templates), so none of them imports or loads anything again, and
each reads the input itself: nothing but row numbers and names crosses between
processes.  The rows are dealt out in blocks of `BLOCK`, block ``b`` to worker
``b % N``, so the workers finish together.

* `validate` is the first pass (every row checked before anything is written) for
  forms whose every valid row is one record; a roster's records group rows by unit,
  so its first pass stays in one process (`forms_api.fill_forms`).
* `write` is the second pass: each worker writes the records of its blocks, with the
  names and in the order one process would use.

Both need the ``fork`` start method (Linux, macOS); `available` says whether it is there.
"""
from __future__ import annotations

import heapq
import multiprocessing
import signal
from array import array

from .fill import FillResult
from .layout import Record

BLOCK = 16  # rows (first pass) or records (second pass) dealt to a worker at a time
_STATE: dict = {}  # what the forked workers inherit


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


# --------------------------------------------------------------------------
# First pass: every row checked, the problems and names gathered in row order
# --------------------------------------------------------------------------
def validate(check, table, result: FillResult, names, jobs: int) -> array:
    """Check every row of ``table`` in ``jobs`` workers (one record per valid row).

    Adds the problems to ``result`` (in row order, as one process finds them), names each
    valid record (``names.add_stem``), and returns the first input row of each record.
    """
    _STATE.update(check=check, table=table, names=names, jobs=jobs)
    try:
        shares = _run(jobs, _validate_share)
    finally:
        _STATE.clear()
    problems, invalid = [], []
    for _, share_problems, share_invalid in shares:
        problems += share_problems
        invalid += share_invalid
    problems.sort(key=lambda p: p.row)  # stable: a row's problems keep their order
    result.problems += problems
    result.invalid_rows.update(sorted(invalid, key=lambda item: item[0]))
    starts = array("q")
    for number, stem in heapq.merge(*(share[0] for share in shares)):
        names.add_stem(stem)
        starts.append(number)
    return starts


def _validate_share(worker: int):
    check, names, jobs = _STATE["check"], _STATE["names"], _STATE["jobs"]
    valid, problems, invalid = [], [], []
    for position, (number, cells) in enumerate(_STATE["table"].rows()):
        if (position // BLOCK) % jobs != worker:
            continue
        values, row_problems = check.row(number, cells)
        problems += row_problems
        if any(p.severity == "error" for p in row_problems):
            invalid.append((number, row_problems))
            continue
        valid.append((number, names.stem(Record(values=values, source_rows=[number]))))
    return valid, problems, invalid


# --------------------------------------------------------------------------
# Second pass: the records written
# --------------------------------------------------------------------------
def write(put, check, table, checked: FillResult, names, starts, jobs: int, progress=None) -> None:
    """Write every record in ``jobs`` workers; ``put(record, target)`` writes one file.

    ``starts``: the first input row of each record, in order (from the first pass);
    ``checked``: the first pass's result, whose invalid rows are skipped.
    """
    counter = multiprocessing.get_context("fork").Value("q", 0)
    _STATE.update(put=put, check=check, table=table, checked=checked, names=names, starts=starts,
                  jobs=jobs, counter=counter)
    try:
        _run(jobs, _write_share, lambda: progress(counter.value, len(names)) if progress else None)
    finally:
        _STATE.clear()
    if progress:
        progress(len(names), len(names))


def _write_share(worker: int) -> int:
    state = _STATE
    starts, jobs = state["starts"], state["jobs"]
    count = len(starts)
    record = -1  # the record the current row belongs to
    block, first, rows = -1, 0, []
    written = 0
    for number, cells in state["table"].rows():
        while record + 1 < count and number >= starts[record + 1]:
            record += 1
        if record < 0 or (record // BLOCK) % jobs != worker:
            continue
        if record // BLOCK != block:
            written += _write_block(first, rows)
            block, first, rows = record // BLOCK, record, []
        rows.append((number, cells))
    return written + _write_block(first, rows)


def _write_block(first: int, rows: list) -> int:
    """The records of ``rows`` (whole records, the first being record ``first``), written."""
    if not rows:
        return 0
    state = _STATE
    put, names = state["put"], state["names"]
    done = 0
    for index, record in enumerate(state["check"].records(rows, FillResult([]), checked=state["checked"]), first):
        put(record, names[index])
        done += 1
    with state["counter"].get_lock():
        state["counter"].value += done
    return done


# --------------------------------------------------------------------------
def _run(jobs: int, task, poll=None) -> list:
    """``task(k)`` for k in 0..jobs-1, each in a process forked now; their results in order."""
    from .forms_api import frozen_heap
    context = multiprocessing.get_context("fork")
    # what is loaded stays shared: the workers' collections never touch (copy) it
    with frozen_heap():
        with context.Pool(jobs, initializer=_ignore_interrupt) as pool:
            try:
                pending = pool.map_async(task, range(jobs), chunksize=1)
                while not pending.ready():
                    pending.wait(0.2)
                    if poll is not None:
                        poll()
                return pending.get()
            except BaseException:
                pool.terminate()  # the first error is reported once; the other workers stop
                raise


def _ignore_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled once, by the parent


