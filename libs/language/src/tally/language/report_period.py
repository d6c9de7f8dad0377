"""Stub (refuses everything): replaced by the implementation."""

from dataclasses import dataclass
from datetime import date
from typing import Literal

from tally.contracts.chat_reports import ReportKind
from tally.contracts.events import Language
from tally.infra.errors import UserFacingError

DEFAULT_TOP = 10
MAX_TOP = 50
TopMeasure = Literal["messages", "words", "reactions", "replies"]


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    first: date
    last: date

    @property
    def days(self) -> int:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ReportArguments:
    period: ReportPeriod
    limit: int | None = None
    by: TopMeasure = "messages"


class ReportPeriodError(UserFacingError):
    def __init__(self, reason: str, texts: dict[Language, str], language: Language) -> None:
        super().__init__(texts[language])
        self.reason = reason
        self.texts = texts


def _refuse() -> ReportPeriodError:
    return ReportPeriodError("stub", {"en": "", "ru": ""}, "en")


def read_period(text: str, *, today: date, language: Language = "en") -> ReportPeriod:
    raise _refuse()


def read_report_arguments(
    kind: ReportKind, args: str | None, *, today: date, language: Language = "en"
) -> ReportArguments:
    raise _refuse()


def describe_period(period: ReportPeriod, language: Language, timezone: str) -> str:
    raise _refuse()
