"""The built-in parser's worst case beside its usual case, measured in one run (no servers).

Worst case: a 2,000-character question of made-up words (a fresh one each time, so no cache
helps), English and Russian, 200 of each. Usual case: the seed's questions, cycled, in the
same process just before. Prints p50 / p99 / max of the CPU time of the parsing thread, in ms
(``time.thread_time``: the event loop is held that long; other processes do not inflate it).
Target (issue 12): worst case at most 20 ms.

    uv run python scripts/bench_parser.py
"""

import random
import string
import time
from datetime import date

from rich.console import Console
from rich.table import Table

from tally.language import parse

TODAY = date(2025, 12, 1)
LENGTH = 2_000
ROUNDS = 200
ALPHABETS = {"en": string.ascii_lowercase, "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"}
USUAL = (
    "How many videos are in the system?",
    "Сколько видео набрало больше 100 000 просмотров за всё время?",
    "How many videos were published between November 1-5, 2025?",
    "На сколько просмотров в сумме выросли все видео 28 ноября 2025?",
)


def made_up(alphabet: str, rng: random.Random) -> str:
    """Words of 4-10 random letters, up to :data:`LENGTH` characters."""
    words: list[str] = []
    while sum(len(word) + 1 for word in words) < LENGTH:
        words.append("".join(rng.choice(alphabet) for _ in range(rng.randint(4, 10))))
    return " ".join(words)[:LENGTH]


def timed(question: str, language: str) -> float:
    """CPU ms of this thread for one parse: what the event loop is held for, unlike wall
    time not inflated by other processes on a shared 2-core machine."""
    started = time.thread_time()
    parse(question, language=language, today=TODAY)  # type: ignore[arg-type]
    return (time.thread_time() - started) * 1000


def figures(samples: list[float]) -> tuple[str, str, str]:
    ordered = sorted(samples)
    p50, p99 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]
    return f"{p50:.3f}", f"{p99:.3f}", f"{ordered[-1]:.3f}"


def main() -> None:
    rng = random.Random(12)
    for question in USUAL:  # dictionaries and caches loaded before anything is timed
        timed(question, "ru" if any("а" <= c <= "я" for c in question) else "en")
    table = Table(title="built-in parser, CPU ms (issue 12 target: worst case <= 20 ms)")
    for column in ("questions", "p50", "p99", "max"):
        table.add_column(column)
    usual = [
        timed(q, "ru" if any("а" <= c <= "я" for c in q) else "en")
        for _ in range(ROUNDS)
        for q in USUAL
    ]
    table.add_row(f"usual: the seed's questions, {len(usual)}", *figures(usual))
    for language, alphabet in ALPHABETS.items():
        worst = [timed(made_up(alphabet, rng), language) for _ in range(ROUNDS)]
        table.add_row(f"worst, {language}: {ROUNDS} x {LENGTH:,} chars made up", *figures(worst))
    Console().print(table)


if __name__ == "__main__":
    main()
