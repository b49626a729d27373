"""What an import did: per kind, how many were imported, updated, unchanged or skipped (with the reasons), and a
progress display (one line rewritten on a terminal, a line per step otherwise)."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

OUTCOMES = ("imported", "updated", "unchanged", "skipped")


@dataclass
class Report:
    stream: object = None  # where progress goes (stderr); None: nowhere
    counts: dict = field(default_factory=lambda: defaultdict(Counter))
    reasons: dict = field(default_factory=lambda: defaultdict(Counter))  # kind -> {reason: how many}
    notes: list = field(default_factory=list)

    def count(self, kind: str, outcome: str, reason: str | None = None) -> None:
        self.counts[kind][outcome] += 1
        if reason:
            self.reasons[kind][reason] += 1

    def skip(self, kind: str, reason: str) -> None:
        self.count(kind, "skipped", reason)

    def progress(self, kind: str, done: int, total: int) -> None:
        if self.stream is None:
            return
        width = 30
        filled = width * done // total if total else width
        line = f"{kind:<18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if self.stream.isatty():
            self.stream.write(f"\r{line}" + ("\n" if done == total else ""))
        elif done == total or done % 50 == 0:
            self.stream.write(line + "\n")
        self.stream.flush()

    def read(self, kind: str, count: int) -> None:
        if self.stream is not None:
            self.stream.write(f"read {count} {kind}\n")

    def lines(self) -> list[str]:
        out = []
        for kind, counts in self.counts.items():
            figures = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o])
            out.append(f"{kind}: {figures}")
            out += [f"  skipped {n}: {reason}" for reason, n in self.reasons[kind].items()]
        out += [f"note: {note}" for note in self.notes]
        return out
